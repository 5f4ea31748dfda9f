package podlet

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestLogBufferRender(t *testing.T) {
	b := NewLogBuffer(100, nil)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, s := range []string{"one", "two", "three"} {
		b.Add(t0.Add(time.Duration(i)*time.Second), s)
	}
	cases := []struct {
		q    LogQuery
		want string
	}{
		{LogQuery{TailLines: -1}, "one\ntwo\nthree\n"},
		{LogQuery{Since: t0.Add(time.Second), TailLines: -1}, "two\nthree\n"},
		{LogQuery{TailLines: 1}, "three\n"},
		{LogQuery{Since: t0.Add(2 * time.Second), Timestamps: true, TailLines: -1}, "2026-01-01T00:00:02Z three\n"},
		{LogQuery{TailLines: -1, LimitBytes: 5}, "one\nt"},
	}
	for _, c := range cases {
		if got := b.Render(c.q); got != c.want {
			t.Errorf("Render(%+v) = %q, want %q", c.q, got, c.want)
		}
	}
}

func TestLogBufferKeepsNewest(t *testing.T) {
	b := NewLogBuffer(8, nil)
	for i := 0; i < 20; i++ {
		b.Add(time.Unix(int64(i), 0), string(rune('a'+i)))
	}
	got := b.Render(LogQuery{TailLines: 1})
	if got != "t\n" {
		t.Errorf("newest line = %q", got)
	}
	if n := len(b.lines); n > 8 {
		t.Errorf("kept %d lines, max 8", n)
	}
}

func TestLogHandler(t *testing.T) {
	b := NewLogBuffer(10, nil)
	b.Add(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "early")
	b.Add(time.Date(2026, 1, 1, 0, 0, 5, 0, time.UTC), "late")
	find := func(ns, pod, c string) *LogBuffer {
		if ns == "ns" && pod == "p" && c == "c" {
			return b
		}
		return nil
	}
	srv := httptest.NewServer(LogHandler(find, time.Now))
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get("/containerLogs/ns/p/c?sinceTime=2026-01-01T00:00:03Z"); code != 200 || body != "late\n" {
		t.Errorf("sinceTime: %d %q", code, body)
	}
	if code, _ := get("/containerLogs/ns/p/other"); code != 404 {
		t.Errorf("unknown container: %d", code)
	}
	if code, _ := get("/containerLogs/ns/p/c?sinceTime=yesterday"); code != 400 {
		t.Errorf("bad sinceTime: %d", code)
	}
}
