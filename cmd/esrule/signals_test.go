package main

import (
	"context"
	"errors"
	"io"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSignalContext(t *testing.T) {
	ctx, sig, stop := signalContext(context.Background())
	defer stop()
	require.Nil(t, sig())
	require.NoError(t, syscall.Kill(syscall.Getpid(), syscall.SIGTERM))
	<-ctx.Done()
	require.Equal(t, syscall.SIGTERM, sig())
	err := asInterrupted(errors.New("interrupted at slot X"), sig())
	require.Equal(t, 143, exitCode(err, io.Discard))
	require.Equal(t, 130, exitCode(asInterrupted(context.Canceled, syscall.SIGINT), io.Discard))
	require.NoError(t, asInterrupted(nil, syscall.SIGINT), "a command that finished anyway succeeded")
	require.Equal(t, exitFailed, exitCode(asInterrupted(errors.New("x"), nil), io.Discard))
}
