package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/openautoglm/cloudphone/wasm-modules/model-intent-int8/internal/distill"
	"github.com/openautoglm/cloudphone/wasm-modules/model-intent-int8/internal/intentnet"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg := distill.DefaultConfig()
	out := flag.String("out", "wasm-modules/model-intent-int8", "directory to write weights.bin and weights-f32.bin into")
	flag.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed")
	flag.IntVar(&cfg.EpochsS, "epochs-intent", cfg.EpochsS, "epochs of the intent net")
	flag.IntVar(&cfg.EpochsT, "epochs-tagger", cfg.EpochsT, "epochs of the tagger")
	flag.Parse()

	start := time.Now()
	data, err := distill.Build(cfg.Seed, distill.PerTemplate, distill.MultiCount)
	if err != nil {
		return fmt.Errorf("build data: %w", err)
	}
	fmt.Printf("data: %d train, %d held-out, %d unseen, %d suite (%.1fs)\n", len(data.Train), len(data.Heldout), len(data.Unseen), len(data.Suite), time.Since(start).Seconds())
	fm := distill.Train(cfg, data.Train)
	distill.Lexicon(fm)
	qm, err := distill.Quantized(fm)
	if err != nil {
		return err
	}
	fmt.Printf("trained in %.1fs\n", time.Since(start).Seconds())
	for _, w := range []struct {
		name string
		m    *intentnet.Model
	}{{"weights-f32.bin", fm}, {"weights.bin", qm}} {
		b, err := intentnet.Encode(w.m)
		if err != nil {
			return fmt.Errorf("encode %s: %w", w.name, err)
		}
		if err := os.WriteFile(filepath.Join(*out, w.name), b, 0o644); err != nil {
			return fmt.Errorf("write weights: %w", err)
		}
		sum := sha256.Sum256(b)
		fmt.Printf("%-16s %7d bytes  sha256 %s\n", w.name, len(b), hex.EncodeToString(sum[:8]))
	}
	fmt.Printf("%-8s %-6s %6s %9s %8s\n", "set", "model", "n", "intent", "slot-EM")
	for _, set := range []struct {
		name string
		d    []distill.Labeled
	}{{"train", data.Train}, {"heldout", data.Heldout}, {"unseen", data.Unseen}, {"suite", data.Suite}} {
		for _, mm := range []struct {
			name string
			m    *intentnet.Model
		}{{"float", fm}, {"int8", qm}} {
			s := distill.Evaluate(mm.m, set.d)
			fmt.Printf("%-8s %-6s %6d %8.2f%% %7.2f%%\n", set.name, mm.name, s.N, 100*s.IntentAcc(), 100*s.SlotEM())
		}
	}
	fmt.Printf("total %.1fs\n", time.Since(start).Seconds())
	return nil
}
