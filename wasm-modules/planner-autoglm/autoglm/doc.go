// Package autoglm is the AutoGLM-Phone planner: it builds the conversation
// the AutoGLM-Phone models expect (a system prompt with the action list,
// the instruction with screen info and the current screenshot, earlier
// replies kept as <think>…</think><answer>…</answer> with their images
// dropped), asks the host for inference, and turns the model's reply into a
// normalized action in screen pixels.
//
// Plan is a pure function of the request. It parses replies robustly: the
// reference grammar (finish(...) checked before do(...), Python literal
// arguments) plus what real models emit around it — a trailing </answer>, a
// missing <answer>, <|begin_of_box|>…<|end_of_box|> wrapping, Chinese
// quotes and commas, prose around the call. A reply with no valid action is
// a retryable PlanError with feedback for the model, never a silent finish.
// Coordinates are 0–999 relative: x_px = int(x/1000·width).
//
// What it is not: it does not talk to a model (the host does, through a
// model plugin) or to a device.
package autoglm
