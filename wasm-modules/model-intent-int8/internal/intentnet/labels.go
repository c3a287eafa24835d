package intentnet

// Intents are the intent classes, in output order. "none" means the
// teacher could not parse the instruction; "multi" that it has several
// sub-goals (the model then gives slots but no goals).
var Intents = []string{"none", "open", "tap", "type", "toggle", "brightness", "search",
	"send", "add_cart", "back", "home", "enter", "navigate", "multi"}

// Attrs are the attribute classes of the second head, in output order.
var Attrs = []string{"none", "on", "off", "up", "down", "max", "min", "pct"}

// SlotTypes are the slot types of the tagger. Tag 0 is O; tag 1+2k is
// B-SlotTypes[k] and 2+2k is I-SlotTypes[k].
var SlotTypes = []string{"app", "contact", "text", "query", "element", "setting"}

// NumTags is the number of BIO tags.
var NumTags = 1 + 2*len(SlotTypes)

// Index returns the position of s in list, or -1.
func Index(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// TagB and TagI return the B and I tags of slot type k.
func TagB(k int) int { return 1 + 2*k }

// TagI returns the I tag of slot type k.
func TagI(k int) int { return 2 + 2*k }

// TagType returns the slot type of tag t and whether it begins a span;
// k is -1 for O.
func TagType(t int) (k int, begin bool) {
	if t <= 0 || t >= NumTags {
		return -1, false
	}
	return (t - 1) / 2, (t-1)%2 == 0
}
