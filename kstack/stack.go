package kstack

// Kind says what a stack is.
type Kind string

// The kinds of stacks.
const (
	// KindTask is a task's kernel stack: a sample of /proc, a capture, a
	// sysrq or hung task dump.
	KindTask Kind = "task"
	// KindLeak is the allocation stack of an object kmemleak reported as
	// unreferenced; Bytes is its size.
	KindLeak Kind = "leak"
)

// Stack is one task's kernel stack at one moment, or the allocation stack of
// one leaked object.
type Stack struct {
	// Kind says whether this is a task stack or a leak.
	Kind Kind `json:"kind"`
	// PID and TID are the process and thread ids, -1 when unknown. Kernel
	// logs print one id (the thread's): it is in both.
	PID int `json:"pid"`
	TID int `json:"tid"`
	// Comm is the task name, empty when unknown.
	Comm string `json:"comm,omitempty"`
	// State is the task state letter ("R", "S", "D", "I"...), empty when
	// unknown (always for leaks).
	State string `json:"state,omitempty"`
	// Bytes is the size of a leaked object, 0 for task stacks.
	Bytes int64 `json:"bytes,omitempty"`
	// Frames are the frames, innermost first as the kernel prints them.
	// Empty for a task in user space or running on a CPU.
	Frames []Frame `json:"frames"`
	// Source says where the stack was read: a path, or "FILE:LINE".
	Source string `json:"source,omitempty"`
}

// Weight is what a stack counts for: its bytes for a leak, else 1.
func (s *Stack) Weight() int64 {
	if s.Kind == KindLeak {
		return s.Bytes
	}
	return 1
}

// Funcs returns the stack's identity: the functions of its frames,
// innermost first (Frame.Func).
func (s *Stack) Funcs() []string {
	out := make([]string, len(s.Frames))
	for i, f := range s.Frames {
		out[i] = f.Func()
	}
	return out
}
