package build

// RacyWindow lets the external tests build right after writing a context
// (a context changed within the window is never reused).
var RacyWindow = &racyWindow
