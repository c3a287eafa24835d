// Command model-intent-int8 is a small distilled intent + slot model,
// quantized to INT8, served as a wasm model plugin: the fast path for
// simple instructions and the degraded tier under overload.
//
// Infer reads the last user message's text as the instruction and
// returns one chunk whose delta is a JSON object:
//
//		{"intent":"send","confidence":0.6598,"attr":"none",
//		 "slots":{"contact":"张三","text":"明天开会"},
//		 "spans":[{"type":"contact","value":"张三","start":1,"end":3},
//		          {"type":"text","value":"明天开会","start":7,"end":11}],
//		 "goals":[{"kind":"send","app":"com.tencent.mm","app_name":"微信","contact":"张三","text":"明天开会"}]}
//
//	  - intent: none, open, tap, type, toggle, brightness, search, send,
//	    add_cart, back, home, enter, navigate or multi; confidence is its
//	    softmax probability (INT8 model).
//	  - attr: on/off for toggle; up/down/max/min/pct for brightness; else none.
//	  - slots: the first span of each type (app, contact, text, query,
//	    element, setting); spans: all of them, in rune offsets of the
//	    cleaned instruction (spaces collapsed, control characters dropped).
//	  - goals: planner-intent's sub-goal form (kind, app, app_name, target,
//	    text, contact, on for toggle, level 0..100 or -1/-2 for
//	    brightness). Empty for none and multi, and when a slot the intent
//	    needs is missing: the caller should then use the full planner.
//
// A request with no user text is an error. The weights (weights.bin,
// INT8, ~330 KiB) are embedded; train them with
// `go run ./wasm-modules/model-intent-int8/train` (see README.md).
//
// What it is not: a planner. It does not look at the screen; a planner
// consumes its goals.
package main
