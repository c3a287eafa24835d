package modeltest

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestToggle(t *testing.T) {
	ui := `<hierarchy><node text="WLAN" class="android.widget.TextView" bounds="[40,300][600,380]" />` +
		`<node text="" class="android.widget.Switch" bounds="[900,310][1040,370]" />` +
		`<node text="飞行模式" class="android.widget.TextView" bounds="[40,400][600,480]" />` +
		`<node text="" class="android.widget.Switch" bounds="[900,410][1040,470]" /></hierarchy>`
	r, ok := Toggle(ui, "飞行模式")
	if !ok || r != (Rect{900, 410, 1040, 470}) {
		t.Fatalf("Toggle = %v %v", r, ok)
	}
	if _, ok := Toggle(ui, "蓝牙"); ok {
		t.Fatal("found a row that is not on screen")
	}
	if _, ok := Toggle(`<node text="飞行模式" bounds="[0,0][10,10]" />`, "飞行模式"); ok {
		t.Fatal("a row without a switch has no toggle")
	}
}

func TestWriteStream(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteStream(rec, "你好，world", Usage{PromptTokens: 3, CompletionTokens: 2})
	body := rec.Body.String()
	if !strings.HasSuffix(body, "data: [DONE]\n\n") || !strings.Contains(body, `"prompt_tokens":3`) ||
		strings.Count(body, `"content"`) != 2 {
		t.Fatalf("stream:\n%s", body)
	}
}
