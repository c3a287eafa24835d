// Command model is a test model plugin: Infer echoes the last message's
// text, upper-cased, and counts its words as completion tokens.
package main

import (
	"errors"
	"strings"

	"github.com/openautoglm/cloudphone/sdk/guest"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

type model struct{}

func (model) Infer(req *cpv1.InferRequest) (*cpv1.InferChunk, error) {
	msgs := req.GetMessages()
	if len(msgs) == 0 {
		return nil, errors.New("no messages")
	}
	var text strings.Builder
	for _, p := range msgs[len(msgs)-1].GetContent() {
		text.WriteString(p.GetText())
	}
	out := strings.ToUpper(text.String())
	return &cpv1.InferChunk{
		Delta:        out,
		FinishReason: "stop",
		Usage:        &cpv1.InferUsage{CompletionTokens: int32(len(strings.Fields(out)))},
	}, nil
}

func init() {
	guest.RegisterModel(&cpv1.PluginInfo{Name: "test-model", Version: "1", Capabilities: []string{"en"}}, model{})
}

func main() {}
