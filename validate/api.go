package validate

// Severity of a finding.
type Severity string

// Severities. Warnings fail only under Strict.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Diagnostic is one finding, located in its file.
type Diagnostic struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`   // 1-based; 0 when the file itself is at fault
	Column   int      `json:"column"` // 1-based, in bytes
	Pointer  string   `json:"pointer"` // RFC 6901 JSON pointer, "" for the document
	Severity Severity `json:"severity"`
	Rule     string   `json:"rule"` // stable ID, e.g. DP101
	Message  string   `json:"message"`
	Hint     string   `json:"hint,omitempty"`
}
