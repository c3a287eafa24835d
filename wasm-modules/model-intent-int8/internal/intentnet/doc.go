// Package intentnet is the student model of model-intent-int8: a hashed
// character n-gram featurizer, two small MLPs (an intent classifier and a
// per-character BIO slot tagger), their INT8 quantization, the weights
// file format, and the decoding of a prediction into slots and sub-goals.
//
// The intent net reads the set of hashed 1–3-gram buckets of the whole
// instruction ([SentenceFeatures]); its hidden layer is an embedding bag
// (the sum of the rows of the active buckets, then ReLU), and its output
// has two softmax heads: the intent ([Intents]) and an attribute
// ([Attrs]: on/off for a toggle, up/down/max/min/percent for brightness).
// The tagger reads, for each character, hashed n-grams of a ±4 character
// window, a few whole-instruction cues and the two previous tags
// ([TokenFeatures]); it is decoded greedily left to right (a MEMM, no
// CRF), with I-x after anything but B-x/I-x read as B-x.
//
// [Quantize] turns a float [Net] into an [Int8Net]: symmetric INT8
// weights with one scale per output channel (per hidden unit for the
// embedding bag, per output row for the second layer), int32
// accumulation, hidden activations quantized per call with one symmetric
// scale, float32 biases. Both nets implement [Forwarder], so one [Model]
// runs either.
//
// The package compiles for wasip1 and avoids fmt and encoding/json, so the
// wasm module stays small and starts fast. Every input is accepted: an
// instruction is cleaned (invalid UTF-8 and control characters dropped,
// spaces collapsed) and cut to [MaxRunes] characters; weights are
// validated before use ([Decode]).
//
// What it is not: the trainer (internal/distill), or a general parser; the
// planner-intent rule parser is the reference it was distilled from.
package intentnet
