// Package openai is a client for OpenAI-compatible chat completion servers
// (vLLM, SGLang, and the like) serving AutoGLM-Phone: it turns a
// cloudphone InferRequest into a streaming /v1/chat/completions request
// (images as data:image/png;base64 URLs), reads the server-sent events, and
// reports time to first token and time to the end of <think>. Requests that
// fail with 429 or 5xx before any token arrived are retried with backoff.
//
// What it is not: a model. The plugin in the parent directory serves this
// client behind the cloudphone model contract.
package openai
