// Command model is a test model plugin: Infer streams the words of the last
// message's text back, one chunk per word, then a done chunk.
package main

import (
	"context"
	"strings"

	"github.com/openautoglm/cloudphone/sdk/plugin"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

type model struct{}

func (model) Load(_ context.Context, req *cpv1.LoadRequest) (*cpv1.LoadResponse, error) {
	return &cpv1.LoadResponse{MemoryMib: int64(len(req.GetModel()))}, nil
}

func (model) Infer(ctx context.Context, req *cpv1.InferRequest, send func(*cpv1.InferChunk) error) error {
	var text string
	if msgs := req.GetMessages(); len(msgs) > 0 {
		for _, part := range msgs[len(msgs)-1].GetContent() {
			text += part.GetText()
		}
	}
	for _, w := range strings.Fields(text) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := send(&cpv1.InferChunk{Delta: w + " "}); err != nil {
			return err
		}
	}
	return send(&cpv1.InferChunk{Done: true, FinishReason: "stop"})
}

func (model) Unload(context.Context, *cpv1.UnloadRequest) (*cpv1.UnloadResponse, error) {
	return &cpv1.UnloadResponse{}, nil
}

func main() {
	plugin.ServeModel(&cpv1.PluginInfo{Name: "model-test", Version: "1.0.0"}, model{})
}
