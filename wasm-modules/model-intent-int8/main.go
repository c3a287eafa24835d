package main

import (
	_ "embed"
	"errors"

	"github.com/openautoglm/cloudphone/sdk/guest"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
	"github.com/openautoglm/cloudphone/wasm-modules/model-intent-int8/internal/intentnet"
)

// version is the plugin's version; set it at build time with
// -ldflags "-X main.version=0.2.0".
var version = "0.1.0"

//go:embed weights.bin
var weights []byte

// errNoText is returned for a request without user text.
var errNoText = errors.New("model-intent-int8: no user text in the request")

type model struct {
	m   *intentnet.Model
	err error
}

func newModel() *model {
	m, err := intentnet.Decode(weights)
	if err != nil {
		return &model{err: errors.Join(errors.New("model-intent-int8: load weights"), err)}
	}
	return &model{m: m}
}

// ZeroCopyRequests implements guest.ZeroCopier: Infer keeps nothing of a
// request once it returns.
func (m *model) ZeroCopyRequests() bool { return true }

// Infer implements guest.Model.
func (m *model) Infer(req *cpv1.InferRequest) (*cpv1.InferChunk, error) {
	if m.err != nil {
		return nil, m.err
	}
	text := Instruction(req)
	if text == "" {
		return nil, errNoText
	}
	return &cpv1.InferChunk{Delta: m.m.Predict(text).JSON()}, nil
}

// Instruction returns the text of the last user message, its text parts
// joined by newlines.
func Instruction(req *cpv1.InferRequest) string {
	msgs := req.GetMessages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].GetRole() != "user" {
			continue
		}
		var s string
		for _, p := range msgs[i].GetContent() {
			if t := p.GetText(); t != "" {
				if s != "" {
					s += "\n"
				}
				s += t
			}
		}
		if s != "" {
			return s
		}
	}
	return ""
}

func init() {
	guest.RegisterModel(&cpv1.PluginInfo{
		Name:         "model-intent-int8",
		Version:      version,
		Description:  "Distilled INT8 intent + slot model: instruction → intent, slots and sub-goals as JSON; offline, no GPU.",
		Capabilities: []string{"intent", "int8", "offline"},
	}, newModel())
}

func main() {}

var _ guest.Model = (*model)(nil)
