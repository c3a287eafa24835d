// Command planner-intent is cloudphone's default planner: offline, no model
// needed. It understands Chinese and English instructions (open an app,
// tap, type, toggle a setting, brightness, search, send a WeChat message,
// add to cart, navigate, back, home, and multi-part instructions) and plans
// each step over the UI hierarchy of the observation. The logic lives in
// package intent; main.go only registers it. Build it as a wasm module:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o planner-intent.wasm ./wasm-modules/planner-intent
//
// The module is about 7.7 MB: 6.8 MB is the guest SDK and the protobuf
// runtime every Go planner carries (planner-hello is 6.8 MB), about 0.5 MB
// is regexp (the instruction grammar), about 0.4 MB the planner. It parses
// the UI XML with its own scanner rather than encoding/xml (which adds
// 0.3 MB and, in wasm, about 10× the parse time) and encodes its state
// with protowire rather than encoding/json (0.5 MB).
package main
