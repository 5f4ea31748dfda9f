package podlet

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LogLine is one line a container wrote, with the time the podlet read it.
type LogLine struct {
	Time time.Time
	Text string
}

// LogBuffer keeps the most recent lines of one container (the kubelet keeps files;
// the mirror tests only read lines written during the test, a few seconds back).
type LogBuffer struct {
	mu    sync.Mutex
	lines []LogLine
	max   int
	file  *os.File // optional copy on disk, for people debugging a run
}

// NewLogBuffer keeps at most max lines; file (may be nil) receives every line too.
func NewLogBuffer(max int, file *os.File) *LogBuffer {
	return &LogBuffer{max: max, file: file}
}

// Add records one line read at t.
func (b *LogBuffer) Add(t time.Time, text string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, LogLine{Time: t, Text: text})
	if len(b.lines) > b.max {
		// Drop the oldest quarter at once so trimming is amortised.
		drop := len(b.lines) - b.max + b.max/4
		b.lines = append([]LogLine(nil), b.lines[drop:]...)
	}
	if b.file != nil {
		fmt.Fprintf(b.file, "%s %s\n", t.UTC().Format(time.RFC3339Nano), text)
	}
}

// Copy reads r line by line until EOF, stamping each line with now().
func (b *LogBuffer) Copy(r io.Reader, now func() time.Time) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		b.Add(now(), sc.Text())
	}
}

// Close closes the on-disk copy.
func (b *LogBuffer) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.file != nil {
		b.file.Close()
		b.file = nil
	}
}

// LogQuery is the subset of the kubelet's /containerLogs parameters the podlet honours.
type LogQuery struct {
	Since      time.Time // zero: from the start
	Timestamps bool
	TailLines  int   // < 0: all
	LimitBytes int64 // <= 0: no limit
}

// ParseLogQuery reads sinceTime (RFC 3339), sinceSeconds, timestamps, tailLines and
// limitBytes the way the apiserver forwards them.
func ParseLogQuery(q map[string][]string, now time.Time) (LogQuery, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	lq := LogQuery{TailLines: -1}
	if s := get("sinceTime"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return lq, fmt.Errorf("sinceTime: %w", err)
		}
		lq.Since = t
	}
	if s := get("sinceSeconds"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return lq, fmt.Errorf("sinceSeconds: %w", err)
		}
		lq.Since = now.Add(-time.Duration(n) * time.Second)
	}
	if s := get("timestamps"); s == "true" || s == "1" {
		lq.Timestamps = true
	}
	if s := get("tailLines"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return lq, fmt.Errorf("tailLines: %w", err)
		}
		lq.TailLines = n
	}
	if s := get("limitBytes"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return lq, fmt.Errorf("limitBytes: %w", err)
		}
		lq.LimitBytes = n
	}
	return lq, nil
}

// Render writes the lines selected by q, one per line, as the kubelet does.
func (b *LogBuffer) Render(q LogQuery) string {
	b.mu.Lock()
	var sel []LogLine
	for _, l := range b.lines {
		if !q.Since.IsZero() && l.Time.Before(q.Since) {
			continue
		}
		sel = append(sel, l)
	}
	b.mu.Unlock()
	if q.TailLines >= 0 && len(sel) > q.TailLines {
		sel = sel[len(sel)-q.TailLines:]
	}
	var sb strings.Builder
	for _, l := range sel {
		if q.Timestamps {
			sb.WriteString(l.Time.UTC().Format(time.RFC3339Nano))
			sb.WriteByte(' ')
		}
		sb.WriteString(l.Text)
		sb.WriteByte('\n')
	}
	out := sb.String()
	if q.LimitBytes > 0 && int64(len(out)) > q.LimitBytes {
		out = out[:q.LimitBytes]
	}
	return out
}

// LogSource finds the buffer of a container; nil when there is none.
type LogSource func(namespace, pod, container string) *LogBuffer

// LogHandler serves the kubelet's GET /containerLogs/{namespace}/{pod}/{container}.
func LogHandler(find LogSource, now func() time.Time) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", func(w http.ResponseWriter, r *http.Request) {
		q, err := ParseLogQuery(r.URL.Query(), now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		buf := find(r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container"))
		if buf == nil {
			http.Error(w, "container not found", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, buf.Render(q))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})
	return mux
}
