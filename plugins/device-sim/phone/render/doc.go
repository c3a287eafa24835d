// Package render draws simulated phone screens: a pooled RGBA [Canvas] with
// rectangles, rounded rectangles, circles, lines and text, and a fast PNG
// encoder.
//
// Fonts are parsed once per process. Chinese text uses the first CJK font
// found among [CJKFontPaths] (or the file named by $CLOUDPHONE_CJK_FONT);
// Latin text falls back to the Go fonts compiled into the binary, and a rune
// no font has is drawn as a hollow box so a missing font is obvious in a
// screenshot rather than silently wrong. Rasterised glyphs are cached
// process-wide (bounded), so drawing text is mostly mask blits.
//
// This package knows nothing about phones, apps or element trees; see the
// parent package phone for those.
package render
