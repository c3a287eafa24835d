package intentnet

import (
	"sort"
	"strings"
	"unicode"
)

// MaxRunes is the longest instruction the model reads; the rest is cut.
const MaxRunes = 256

// Clean normalizes an instruction the way the model reads it: invalid
// UTF-8 and control characters dropped, runs of spaces collapsed to one,
// trimmed, cut to MaxRunes characters. Slot values are substrings of it.
func Clean(s string) []rune {
	s = strings.ToValidUTF8(s, "")
	out := make([]rune, 0, len(s))
	space := false
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || unicode.IsSpace(r):
			space = len(out) > 0
		case unicode.IsControl(r) || r == '\ufeff' || r == '\u200b':
		default:
			if space {
				out = append(out, ' ')
			}
			space = false
			out = append(out, r)
		}
		if len(out) >= MaxRunes {
			break
		}
	}
	if len(out) > MaxRunes {
		out = out[:MaxRunes]
	}
	return out
}

// lower returns the lowercased runes (one rune each, so indexes agree).
func lower(rs []rune) []rune {
	l := make([]rune, len(rs))
	for i, r := range rs {
		l[i] = unicode.ToLower(r)
	}
	return l
}

// FNV-1a over 32-bit words.
const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
)

func hashOf(tag uint32, rs ...rune) uint32 {
	h := uint32(fnvOffset)
	h = (h ^ tag) * fnvPrime
	for _, r := range rs {
		h = (h ^ uint32(r)) * fnvPrime
		h = (h ^ uint32(r)>>16) * fnvPrime
	}
	return h
}

// Boundary runes padding the text.
const (
	bos = '\u0002'
	eos = '\u0003'
)

// SentenceFeatures returns the sorted, distinct buckets (mod buckets) of
// the 1-, 2- and 3-grams of the lowercased instruction with boundary
// marks.
func SentenceFeatures(rs []rune, buckets int) []uint32 {
	if buckets <= 0 {
		return nil
	}
	l := make([]rune, 0, len(rs)+2)
	l = append(l, bos)
	l = append(l, lower(rs)...)
	l = append(l, eos)
	f := make([]uint32, 0, 3*len(l))
	for n := 1; n <= 3; n++ {
		for i := 0; i+n <= len(l); i++ {
			f = append(f, hashOf(uint32(n), l[i:i+n]...)%uint32(buckets))
		}
	}
	sort.Slice(f, func(i, j int) bool { return f[i] < f[j] })
	u := f[:0]
	for i, v := range f {
		if i == 0 || v != f[i-1] {
			u = append(u, v)
		}
	}
	return u
}

// charClass is a coarse class of a rune for shape features.
func charClass(r rune) rune {
	switch {
	case r == bos || r == eos:
		return 'b'
	case unicode.Is(unicode.Han, r):
		return 'h'
	case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
		return 'a'
	case unicode.IsDigit(r):
		return 'd'
	case r == ' ':
		return 's'
	case unicode.IsPunct(r) || unicode.IsSymbol(r):
		return 'p'
	}
	return 'o'
}

// Tagger feature tags (hash namespaces).
const (
	tagUni = 100 + iota
	tagBi
	tagTri
	tagShape
	tagStart
	tagEnd
	tagGlob2
	tagGlob3
	tagWord
	tagPrev1
	tagPrev2
	tagBias
)

// Window is how far the tagger looks left and right of a character.
const Window = 4

// StaticTokenFeatures returns, for every character, its buckets that do
// not depend on earlier tags: unigrams of a ±Window window, bigrams and
// trigrams around it, the shape of ±2 characters, the distance to both
// ends, and the instruction's first characters and first word.
func StaticTokenFeatures(rs []rune, buckets int) [][]uint32 {
	if buckets <= 0 {
		return make([][]uint32, len(rs))
	}
	l := lower(rs)
	at := func(i int) rune {
		switch {
		case i < 0:
			return bos
		case i >= len(l):
			return eos
		}
		return l[i]
	}
	glob2 := hashOf(tagGlob2, at(0), at(1))
	glob3 := hashOf(tagGlob3, at(0), at(1), at(2))
	w := 0
	for w < len(l) && w < 16 && l[w] != ' ' {
		w++
	}
	word := hashOf(tagWord, l[:w]...)
	b := uint32(buckets)
	out := make([][]uint32, len(rs))
	for i := range l {
		f := make([]uint32, 0, 32)
		for o := -Window; o <= Window; o++ {
			f = append(f, hashOf(tagUni+uint32(o+Window)<<8, at(i+o))%b)
		}
		for o := -3; o <= 2; o++ {
			f = append(f, hashOf(tagBi+uint32(o+3)<<8, at(i+o), at(i+o+1))%b)
		}
		for o := -4; o <= 2; o++ {
			f = append(f, hashOf(tagTri+uint32(o+4)<<8, at(i+o), at(i+o+1), at(i+o+2))%b)
		}
		f = append(f, hashOf(tagShape, charClass(at(i-2)), charClass(at(i-1)), charClass(at(i)), charClass(at(i+1)), charClass(at(i+2)))%b)
		f = append(f, hashOf(tagStart, rune(min(i, 8)))%b, hashOf(tagEnd, rune(min(len(l)-1-i, 8)))%b)
		f = append(f, glob2%b, glob3%b, word%b, hashOf(tagBias)%b)
		out[i] = f
	}
	return out
}

// TokenFeatures appends to static the buckets of the two previous tags
// (-1 before the start) and returns the result in buf.
func TokenFeatures(buf, static []uint32, prev1, prev2, buckets int) []uint32 {
	buf = append(buf[:0], static...)
	if buckets <= 0 {
		return buf
	}
	b := uint32(buckets)
	buf = append(buf, hashOf(tagPrev1, rune(prev1+1))%b, hashOf(tagPrev2, rune(prev2+1), rune(prev1+1))%b)
	return buf
}
