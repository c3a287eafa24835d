package wire

import (
	"slices"
	"strings"
)

// Feature names exchanged in CNXN banners.
const (
	FeatureShell2          = "shell_v2"
	FeatureCmd             = "cmd"
	FeatureStat2           = "stat_v2"
	FeatureLs2             = "ls_v2"
	FeatureFixedPushMkdir  = "fixed_push_mkdir"
	FeatureFixedPushSymlnk = "fixed_push_symlink_timestamp"
)

// DefaultFeatures returns the features both sides of sdk/adb implement and
// advertise unless told otherwise: what adb 29 needs for exit codes
// (shell_v2), stat and list with 64-bit sizes (stat_v2, ls_v2) and pushes
// that create parent directories (fixed_push_mkdir).
func DefaultFeatures() []string {
	return []string{FeatureShell2, FeatureCmd, FeatureStat2, FeatureLs2, FeatureFixedPushMkdir, FeatureFixedPushSymlnk}
}

// Banner is the identity a peer announces in its CNXN packet, e.g.
// "device::ro.product.name=x;ro.product.model=y;ro.product.device=z;features=shell_v2,cmd".
type Banner struct {
	// Type is "device", "host", "bootloader", "recovery" or "sideload".
	Type string
	// Serial is the optional part between the two colons; adbd leaves it
	// empty.
	Serial string
	// Product, Model and Device are ro.product.name, ro.product.model and
	// ro.product.device; adb shows them in `adb devices -l`.
	Product string
	Model   string
	Device  string
	// Features lists the protocol features the peer supports.
	Features []string
}

// String formats b the way adbd does.
func (b Banner) String() string {
	var sb strings.Builder
	t := b.Type
	if t == "" {
		t = "device"
	}
	sb.WriteString(t)
	sb.WriteString(":")
	sb.WriteString(b.Serial)
	sb.WriteString(":")
	var props []string
	if b.Product != "" {
		props = append(props, "ro.product.name="+b.Product)
	}
	if b.Model != "" {
		props = append(props, "ro.product.model="+b.Model)
	}
	if b.Device != "" {
		props = append(props, "ro.product.device="+b.Device)
	}
	props = append(props, "features="+strings.Join(b.Features, ","))
	sb.WriteString(strings.Join(props, ";"))
	return sb.String()
}

// Has reports whether the banner lists feature f.
func (b Banner) Has(f string) bool { return slices.Contains(b.Features, f) }

// ParseBanner parses a CNXN banner. Unknown properties are ignored; a banner
// without colons is returned with only Type set, as adb does.
func ParseBanner(s string) Banner {
	s = strings.TrimRight(s, "\x00")
	var b Banner
	typ, rest, ok := strings.Cut(s, ":")
	b.Type = typ
	if !ok {
		return b
	}
	serial, props, _ := strings.Cut(rest, ":")
	b.Serial = serial
	for _, kv := range strings.Split(props, ";") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "ro.product.name":
			b.Product = v
		case "ro.product.model":
			b.Model = v
		case "ro.product.device":
			b.Device = v
		case "features":
			for _, f := range strings.Split(v, ",") {
				if f != "" {
					b.Features = append(b.Features, f)
				}
			}
		}
	}
	return b
}
