// Command gpumodel is a test model plugin for core/vgpu. Its name is its
// file's name, so one build serves as several models. Config (plugins.config.<name>):
// {"memory_mib": N, "gpu_time_us": N}: Load reports memory_mib; every reply
// reports gpu_time_us. Infer looks at the last message's text: "fail:why"
// fails with why, "pid" answers the process id, "crash" exits the process,
// "block" waits for the call's context, "sleep:ms" sleeps
// before answering, anything else is echoed back in two chunks. A plugin
// whose name starts with "batch-" is a plugin.BatchModel: over the host's
// ring it runs each fetch in one InferBatch and answers every request
// with "<text> (batch of N)" ("pid" with the process id).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/openautoglm/cloudphone/sdk/plugin"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

var name = filepath.Base(os.Args[0])

type settings struct {
	MemoryMiB int64 `json:"memory_mib"`
	GPUTimeUs int64 `json:"gpu_time_us"`
}

type model struct {
	cfg atomic.Pointer[settings]
}

func (m *model) Configure(_ context.Context, configJSON []byte) error {
	var s settings
	if len(configJSON) > 0 {
		if err := json.Unmarshal(configJSON, &s); err != nil {
			return fmt.Errorf("%s config: %w", name, err)
		}
	}
	m.cfg.Store(&s)
	return nil
}

func (m *model) settings() settings {
	if s := m.cfg.Load(); s != nil {
		return *s
	}
	return settings{}
}

func (m *model) Load(context.Context, *cpv1.LoadRequest) (*cpv1.LoadResponse, error) {
	return &cpv1.LoadResponse{MemoryMib: m.settings().MemoryMiB}, nil
}

func (m *model) Unload(context.Context, *cpv1.UnloadRequest) (*cpv1.UnloadResponse, error) {
	return &cpv1.UnloadResponse{}, nil
}

func (m *model) Infer(ctx context.Context, req *cpv1.InferRequest, send func(*cpv1.InferChunk) error) error {
	var text string
	if msgs := req.GetMessages(); len(msgs) > 0 {
		for _, p := range msgs[len(msgs)-1].GetContent() {
			text += p.GetText()
		}
	}
	switch {
	case strings.HasPrefix(text, "fail:"):
		return errors.New(strings.TrimPrefix(text, "fail:"))
	case text == "pid":
		text = strconv.Itoa(os.Getpid())
	case text == "crash":
		os.Exit(3)
	case text == "block":
		<-ctx.Done()
		return ctx.Err()
	case strings.HasPrefix(text, "sleep:"):
		ms, _ := strconv.Atoi(strings.TrimPrefix(text, "sleep:"))
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	half := len(text) / 2
	if err := send(&cpv1.InferChunk{Delta: text[:half]}); err != nil {
		return err
	}
	if err := send(&cpv1.InferChunk{Delta: text[half:]}); err != nil {
		return err
	}
	return send(&cpv1.InferChunk{Done: true, FinishReason: "stop",
		Usage: &cpv1.InferUsage{PromptTokens: int32(len(text)), GpuTimeUs: m.settings().GPUTimeUs}})
}

// batching runs a fetch's requests together.
type batching struct{ *model }

func (b batching) InferBatch(ctx context.Context, reqs []*cpv1.InferRequest, send func(int, *cpv1.InferChunk) error) []error {
	errs := make([]error, len(reqs))
	for i, req := range reqs {
		var text string
		if msgs := req.GetMessages(); len(msgs) > 0 {
			for _, p := range msgs[len(msgs)-1].GetContent() {
				text += p.GetText()
			}
		}
		reply := fmt.Sprintf("%s (batch of %d)", text, len(reqs))
		if text == "pid" {
			reply = strconv.Itoa(os.Getpid())
		}
		if err := send(i, &cpv1.InferChunk{Delta: reply}); err != nil {
			errs[i] = err
			continue
		}
		errs[i] = send(i, &cpv1.InferChunk{Done: true, FinishReason: "stop",
			Usage: &cpv1.InferUsage{GpuTimeUs: b.settings().GPUTimeUs}})
	}
	return errs
}

func main() {
	m := &model{}
	if strings.HasPrefix(name, "batch-") {
		plugin.ServeModel(&cpv1.PluginInfo{Name: name, Version: "1.0.0"}, batching{m})
		return
	}
	plugin.ServeModel(&cpv1.PluginInfo{Name: name, Version: "1.0.0"}, m)
}
