package interrupt

import (
	"context"
	"errors"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// exitCode is the exit code of err as the command computes it: the
// signal's, or 1.
func exitCode(err error) int {
	var ie Error
	if errors.As(err, &ie) {
		return ie.ExitCode()
	}
	return 1
}

func TestContext(t *testing.T) {
	ctx, sig, stop := Context(context.Background())
	defer stop()
	require.Nil(t, sig())
	require.NoError(t, syscall.Kill(syscall.Getpid(), syscall.SIGTERM))
	<-ctx.Done()
	require.Equal(t, syscall.SIGTERM, sig())
	err := Mark(errors.New("interrupted at slot X"), sig())
	require.Equal(t, 143, exitCode(err))
	require.Equal(t, 130, exitCode(Mark(context.Canceled, syscall.SIGINT)))
	require.NoError(t, Mark(nil, syscall.SIGINT), "a command that finished anyway succeeded")
	require.Equal(t, 1, exitCode(Mark(errors.New("x"), nil)))
}
