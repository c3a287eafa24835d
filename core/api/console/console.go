package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed assets
var assets embed.FS

// file is one embedded asset, read once.
type file struct {
	name  string
	body  []byte
	etag  string
	ctype string
}

// csp keeps the page to its own origin: no inline script, no CDN.
const csp = "default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; style-src 'self'; script-src 'self'; " +
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// Handler serves the console: mount it at "/" (public, no token). Paths
// other than the page and its assets answer a JSON 404.
func Handler() http.Handler {
	files, err := load()
	if err != nil {
		// The assets are compiled in: this is a build bug, said on every
		// request rather than crashing the server.
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, fmt.Sprintf("console: embedded assets: %v", err), http.StatusInternalServerError)
		})
	}
	index := files["index.html"]
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { serve(w, r, index) })
	mux.HandleFunc("GET /index.html", func(w http.ResponseWriter, r *http.Request) { serve(w, r, index) })
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { serve(w, r, files["favicon.svg"]) })
	mux.HandleFunc("GET /assets/{name...}", func(w http.ResponseWriter, r *http.Request) {
		f, ok := files[r.PathValue("name")]
		if !ok {
			notFound(w, r)
			return
		}
		serve(w, r, f)
	})
	mux.HandleFunc("/", notFound)
	return mux
}

func load() (map[string]*file, error) {
	out := map[string]*file{}
	err := fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assets.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		sum := sha256.Sum256(b)
		name := strings.TrimPrefix(p, "assets/")
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
		out[name] = &file{name: name, body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ctype: ct}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, need := range []string{"index.html", "favicon.svg"} {
		if out[need] == nil {
			return nil, fmt.Errorf("missing %s", need)
		}
	}
	return out, nil
}

func serve(w http.ResponseWriter, r *http.Request, f *file) {
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", "no-cache") // revalidate: the ETag makes it cheap
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if strings.HasSuffix(f.name, ".html") {
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
	}
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.body))
}

func notFound(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{
		"code": "not_found", "message": fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path)}})
}
