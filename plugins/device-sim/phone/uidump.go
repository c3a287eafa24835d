package phone

import (
	"fmt"
	"strconv"
	"strings"
)

func cmdUiautomator(sh *shell, args []string, io stdio) int {
	if len(args) == 0 || args[0] != "dump" {
		fmt.Fprintln(io.err, "Usage: uiautomator <subcommand> [options]\n\nAvailable subcommands:\n\nhelp: displays help message\n\ndump: creates an XML dump of current UI hierarchy\n    dump [--verbose][file]\n      [--compressed]: dumps compressed layout information.\n      [file]: the location where the dumped XML should be stored, default is\n      /sdcard/window_dump.xml")
		return 1
	}
	target := "/sdcard/window_dump.xml"
	for _, a := range args[1:] {
		if !strings.HasPrefix(a, "-") {
			target = a
		}
	}
	xml := sh.p.DumpXML()
	switch target {
	case "/dev/tty", "/dev/stdout":
		_, _ = io.out.Write(xml)
	default:
		if err := sh.p.fs.write(target, xml, 0, false, false); err != nil {
			fmt.Fprintf(io.err, "ERROR: could not write %s: %s\n", target, errText(err))
			return 1
		}
	}
	fmt.Fprintf(io.out, "UI hierchary dumped to: %s\n", target)
	return 0
}

// DumpXML returns the foreground window's element tree in the format of
// `uiautomator dump`.
func (p *Phone) DumpXML() []byte {
	root := p.UI()
	var b strings.Builder
	b.WriteString(`<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation="0">`)
	writeNode(&b, root, 0)
	b.WriteString("</hierarchy>")
	return []byte(b.String())
}

// UI returns a snapshot of the foreground window's element tree.
func (p *Phone) UI() *Node {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.build().root
}

func writeNode(b *strings.Builder, n *Node, index int) {
	attr := func(k, v string) {
		b.WriteString(" ")
		b.WriteString(k)
		b.WriteString(`="`)
		xmlEscape(b, v)
		b.WriteString(`"`)
	}
	bl := func(k string, v bool) { attr(k, strconv.FormatBool(v)) }
	b.WriteString("<node")
	attr("index", strconv.Itoa(index))
	attr("text", n.Text)
	attr("resource-id", n.ResourceID)
	attr("class", n.Class)
	attr("package", n.Package)
	attr("content-desc", n.Desc)
	bl("checkable", n.Checkable)
	bl("checked", n.Checked)
	bl("clickable", n.Clickable)
	bl("enabled", n.Enabled)
	bl("focusable", n.Focusable)
	bl("focused", n.Focused)
	bl("scrollable", n.Scrollable)
	bl("long-clickable", n.LongClickable)
	bl("password", n.Password)
	bl("selected", n.Selected)
	r := n.Bounds
	attr("bounds", fmt.Sprintf("[%d,%d][%d,%d]", r.Min.X, r.Min.Y, r.Max.X, r.Max.Y))
	i := 0
	for _, c := range n.Children {
		if c.Class == "" {
			continue
		}
		if i == 0 {
			b.WriteString(">")
		}
		writeNode(b, c, i)
		i++
	}
	if i == 0 {
		b.WriteString(" />")
	} else {
		b.WriteString("</node>")
	}
}

// xmlEscape writes s escaped for an attribute, dropping runes XML 1.0
// cannot carry.
func xmlEscape(b *strings.Builder, s string) {
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '\n':
			b.WriteString("&#10;")
		case r == '\t':
			b.WriteString("&#9;")
		case r == '\r':
			b.WriteString("&#13;")
		case r < 0x20, r == 0xfffe, r == 0xffff, r >= 0xd800 && r <= 0xdfff:
		default:
			b.WriteRune(r)
		}
	}
}
