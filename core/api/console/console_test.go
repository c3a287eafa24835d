package console

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestHandlerRoutes(t *testing.T) {
	srv := httptest.NewServer(Handler())
	t.Cleanup(srv.Close)
	tests := []struct {
		path, ctype string
		code        int
		contains    string
	}{
		{"/", "text/html", 200, `id="login"`},
		{"/index.html", "text/html", 200, `<script type="module" src="/assets/app.js">`},
		{"/favicon.ico", "image/svg+xml", 200, "<svg"},
		{"/assets/app.js", "text/javascript", 200, "import { api, token } from './api.js'"},
		{"/assets/api.js", "text/javascript", 200, "class DeviceStream"},
		{"/assets/style.css", "text/css", 200, ".timeline"},
		{"/assets/nope.js", "application/json", 404, `"not_found"`},
		{"/api/v1/unknown", "application/json", 404, `"not_found"`},
	}
	for _, tt := range tests {
		resp, err := http.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.ctype) || !strings.Contains(string(b), tt.contains) {
			t.Errorf("GET %s: %d %s, want %d %s containing %q", tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), tt.code, tt.ctype, tt.contains)
		}
	}
	// The page forbids anything from another origin.
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	// Revalidation by ETag.
	etag := resp.Header.Get("ETag")
	req, _ := http.NewRequest("GET", srv.URL+"/", nil)
	req.Header.Set("If-None-Match", etag)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if etag == "" || resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match %s: %d, want 304", etag, resp.StatusCode)
	}
}

// TestAssetsSelfContained: no CDN, no external URL a browser would load,
// and every module the page imports is embedded.
func TestAssetsSelfContained(t *testing.T) {
	files, err := load()
	if err != nil {
		t.Fatal(err)
	}
	external := regexp.MustCompile(`(src|href)\s*=\s*["'](https?:)?//|@import|url\(\s*["']?https?:|from\s+["']https?:`)
	imports := regexp.MustCompile(`from\s+'\./([a-z]+\.js)'`)
	for name, f := range files {
		if loc := external.FindIndex(f.body); loc != nil {
			t.Errorf("%s loads from another origin: %q", name, f.body[loc[0]:loc[1]])
		}
		for _, m := range imports.FindAllSubmatch(f.body, -1) {
			if _, ok := files[string(m[1])]; !ok {
				t.Errorf("%s imports %s, which is not embedded", name, m[1])
			}
		}
		if strings.Contains(string(f.body), "innerHTML") {
			t.Errorf("%s uses innerHTML: build elements with dom.js's h()", name)
		}
	}
	n := 0
	_ = fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if n != len(files) {
		t.Errorf("%d embedded files, %d loaded", n, len(files))
	}
}
