// Package distill trains the model-intent-int8 student from its teacher,
// planner-intent's rule parser (intent.Parse).
//
// Data: [Generate] expands templates (Chinese and English, per intent,
// plus two-part compositions joined by 然后/，/"and then"/", then") with
// slot values (contacts, messages, queries, places, elements, texts,
// fields, percentages; apps, settings and shops are a closed lexicon used
// in every split). Templates and open-class slot values are each split
// 3:1 into train and held-out by index. Three sets come out: train
// (training templates, training values), held-out (training templates,
// held-out values: unseen contacts, messages, queries… in known
// phrasings) and unseen (held-out templates with held-out values: new
// phrasings, often a trigger word the student never saw, so this is the
// hard set). The task suite is a fourth, real-world test set; it is never
// trained on.
//
// Teacher labels ([Label]): the parser's goals collapse to one intent
// (one goal → its kind; search+navigate → navigate; search+add_cart of
// the same item → add_cart; more → multi; a parse error → none), an
// attribute (on/off, brightness up/down/max/min/pct) and slot values,
// which are located in the cleaned instruction to give per-character BIO
// tags.
//
// Soft targets ([SoftIntent]): a rule parser is one-hot, so it is
// softened twice, deterministically. (1) Per-template confusion: p_t is
// the distribution of the teacher's intents over all training examples
// of the same template (a template whose values sometimes make the parser
// read it differently spreads its mass); the target mixes
// α·onehot + (1−α)·p_t. (2) Temperature: q = softmax(log(mix + ε) / T).
// With α = 0.8, ε = 1e-3 and T = 2 an unambiguous example puts about 0.7
// on its class and 0.02 on each other. Attributes use the same recipe;
// tags use label smoothing (0.95 on the teacher's tag). The loss is the
// cross-entropy to the soft target.
//
// Training ([Train]): Adagrad on float32, per-example updates (sparse for
// the embedding bags), examples shuffled by a PCG generator with a fixed
// seed; the intent net and the tagger train in two goroutines, each
// deterministic. Products are written float32(a*b) so no fused
// multiply-add changes bits between architectures; results are
// bit-identical for the same seed and GOARCH.
//
// What it is not: part of the wasm module; only the trainer and tests
// import it.
package distill
