// Command train distills, quantizes and evaluates model-intent-int8:
//
//	go run ./wasm-modules/model-intent-int8/train
//
// It labels generated instructions with planner-intent's parser, trains
// the float model (internal/distill), quantizes it to INT8, writes
// weights.bin (INT8, embedded in the module) and weights-f32.bin (the
// float model, for comparison; not committed) next to the module, and
// prints float vs INT8 accuracy on the held-out split and the task suite.
// The same seed gives the same bytes on the same GOARCH.
package main
