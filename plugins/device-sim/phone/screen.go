package phone

import (
	"bytes"
	"container/list"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"strings"
	"sync"

	"github.com/openautoglm/cloudphone/plugins/device-sim/phone/render"
)

// snapshot is everything needed to draw one frame, taken under Phone.mu so
// drawing can happen without the lock.
type snapshot struct {
	f        *frame
	w, h     int
	bg       color.RGBA
	status   color.RGBA
	clock    string
	wifi     bool
	bt       bool
	airplane bool
	awake    bool
	booting  bool
	toast    string
	version  uint64
}

func (p *Phone) snapshot() *snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.w
	s := &snapshot{w: p.opts.Width, h: p.opts.Height, clock: p.clock().Format("15:04"),
		wifi: w.on("global", "wifi_on"), bt: w.on("global", "bluetooth_on"), airplane: w.on("global", "airplane_mode_on"),
		awake: w.awake, booting: p.booting(), toast: w.toast, version: w.version}
	if s.booting || !s.awake {
		return s
	}
	s.f = p.build()
	s.bg, s.status = s.f.root.st.bg, s.f.statusBg
	if len(s.f.root.Children) > 0 {
		s.bg = s.f.root.Children[0].st.bg
	}
	return s
}

// Screenshot renders the screen and returns it as PNG, as `screencap -p`
// does. Frames are cached by screen version in a small process-wide LRU.
func (p *Phone) Screenshot() ([]byte, error) {
	snap := p.snapshot()
	key := cacheKey{id: p.id, version: snap.version, clock: snap.clock, awake: snap.awake && !snap.booting}
	if png := shots.get(key); png != nil {
		return png, nil
	}
	c := render.NewCanvas(snap.w, snap.h)
	defer c.Release()
	snap.draw(c)
	var buf bytes.Buffer
	buf.Grow(snap.w * snap.h / 8)
	if err := render.EncodeRGB(&buf, c.Img); err != nil {
		return nil, fmt.Errorf("screenshot of %s: %w", p.opts.Serial, err)
	}
	png := buf.Bytes()
	shots.put(key, png)
	return png, nil
}

// cmdScreencap writes PNG with -p or to a FILE ending in .png, and
// otherwise the raw format: width, height, pixel format (1, RGBA_8888) and
// colour space (1, sRGB) as little-endian uint32s, then the pixels.
func cmdScreencap(sh *shell, args []string, io stdio) int {
	flags, rest := splitFlags(args)
	asPNG := strings.Contains(flags, "p") || (len(rest) > 0 && strings.HasSuffix(rest[0], ".png"))
	var data []byte
	if asPNG {
		png, err := sh.p.Screenshot()
		if err != nil {
			fmt.Fprintf(io.err, "screencap: %v\n", err)
			return 1
		}
		data = png
	} else {
		img := sh.p.Image()
		data = make([]byte, 16, 16+len(img.Pix))
		binary.LittleEndian.PutUint32(data[0:], uint32(img.Rect.Dx()))
		binary.LittleEndian.PutUint32(data[4:], uint32(img.Rect.Dy()))
		binary.LittleEndian.PutUint32(data[8:], 1)
		binary.LittleEndian.PutUint32(data[12:], 1)
		data = append(data, img.Pix...)
	}
	if len(rest) == 0 {
		_, _ = io.out.Write(data)
		return 0
	}
	if err := sh.p.fs.write(rest[0], data, 0, false, false); err != nil {
		fmt.Fprintf(io.err, "Error opening file: %s (%s)\n", rest[0], errText(err))
		return 1
	}
	return 0
}

// Screenshot cache: a global LRU bounded in bytes, so idle phones hold no
// frames of their own and many busy phones cannot exhaust memory.

// ScreenshotCacheBytes bounds the process-wide screenshot cache.
var ScreenshotCacheBytes = 24 << 20

// cacheKey names a frame by phone ID, not pointer, so the cache never keeps
// a discarded phone alive.
type cacheKey struct {
	id      uint64
	version uint64
	clock   string
	awake   bool
}

type shotCache struct {
	mu    sync.Mutex
	ll    *list.List // of *shotEntry, most recent first
	byID  map[uint64]*list.Element
	bytes int
}

type shotEntry struct {
	key cacheKey
	png []byte
}

var shots = &shotCache{ll: list.New(), byID: map[uint64]*list.Element{}}

func (c *shotCache) get(k cacheKey) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.byID[k.id]
	if e == nil || e.Value.(*shotEntry).key != k {
		return nil
	}
	c.ll.MoveToFront(e)
	return e.Value.(*shotEntry).png
}

func (c *shotCache) put(k cacheKey, png []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.byID[k.id]; e != nil {
		c.bytes -= len(e.Value.(*shotEntry).png)
		c.ll.Remove(e)
	}
	if len(png) > ScreenshotCacheBytes {
		delete(c.byID, k.id)
		return
	}
	c.byID[k.id] = c.ll.PushFront(&shotEntry{key: k, png: png})
	c.bytes += len(png)
	for c.bytes > ScreenshotCacheBytes && c.ll.Len() > 0 {
		last := c.ll.Back()
		ent := last.Value.(*shotEntry)
		c.ll.Remove(last)
		delete(c.byID, ent.key.id)
		c.bytes -= len(ent.png)
	}
}

// DropScreenshotCache empties the process-wide screenshot cache.
func DropScreenshotCache() {
	shots.mu.Lock()
	defer shots.mu.Unlock()
	shots.ll.Init()
	shots.byID = map[uint64]*list.Element{}
	shots.bytes = 0
}

// Image renders the current screen into a new RGBA image.
func (p *Phone) Image() *image.RGBA {
	snap := p.snapshot()
	c := render.NewCanvas(snap.w, snap.h)
	defer c.Release()
	snap.draw(c)
	out := image.NewRGBA(c.Img.Rect)
	copy(out.Pix, c.Img.Pix)
	return out
}
