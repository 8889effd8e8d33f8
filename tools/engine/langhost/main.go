// Command pulumi-language-nodejs is the kit's own Node.js language host for the
// Pulumi engine.
//
// Why it exists: the upstream language host lives in a Go module of its own
// (sdk/nodejs/cmd/pulumi-language-nodejs/v3) that the Go module proxy reachable
// from our lab machines does not serve, and the CLI download site is not
// reachable either. The engine only needs a small gRPC contract from a language
// host: print a port, then answer Run by starting the program under Node.js
// with the resource monitor's address. This file implements that contract and
// nothing more; operations the engine treats as optional (About, dependency
// listing, code generation) answer Unimplemented, which the engine handles.
//
// The kit's programs run as JavaScript compiled once per content of their
// sources (tools/engine/register.cjs); other TypeScript programs run under tsx
// when the project has it installed.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is stamped at build time by tools/bootstrap.sh.
var version = "0.0.0-dev"

// exitCodeAlreadyReported is what @pulumi/pulumi's run script exits with after
// it has printed a user-actionable error; the engine must not print another.
const exitCodeAlreadyReported = 32

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
}

func main() {
	// The engine passes flags such as -tracing before its own address, which
	// always comes last.
	var engineAddress string
	if n := len(os.Args); n > 1 {
		engineAddress = os.Args[n-1]
	}
	host := &languageHost{engineAddress: engineAddress}
	go exitWithEngine(os.Getppid(), engineAddress)
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "nfvkit language host: cannot serve gRPC: %v\n", err)
		os.Exit(1)
	}
	// The engine reads the port from our first line of output.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "nfvkit language host: gRPC server stopped: %v\n", err)
		os.Exit(1)
	}
}

func (h *languageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *languageHost) Handshake(
	context.Context, *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

// GetRequiredPackages reports no packages to download: the kit's one provider,
// nfvkit, is a plugin shipped in the repository and declared in Pulumi.yaml
// (plugins.providers), which the engine reads itself.
func (h *languageHost) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *languageHost) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	programDir := req.GetPwd()
	rootDir := programDir
	entryPoint := req.GetProgram()
	if info := req.GetInfo(); info != nil {
		if info.GetProgramDirectory() != "" {
			programDir = info.GetProgramDirectory()
		}
		if info.GetRootDirectory() != "" {
			rootDir = info.GetRootDirectory()
		}
		if info.GetEntryPoint() != "" {
			entryPoint = info.GetEntryPoint()
		}
	}
	if entryPoint == "" {
		entryPoint = "."
	}

	runScript, err := findUpwards(programDir, "node_modules/@pulumi/pulumi/cmd/run/index.js")
	if err != nil {
		return &pulumirpc.RunResponse{Error: "the Pulumi Node.js SDK is not installed next to the program " +
			"(no node_modules/@pulumi/pulumi above " + programDir + "): run `npm ci` in the project"}, nil
	}

	nodeArgs := []string{}
	env := os.Environ()
	// The kit's programs (its own and the bench's floor, which live inside it)
	// run as JavaScript compiled once and kept until their sources change:
	// tsx costs about 1.3 CPU s more at every start (docs/bench.md).
	// NFVKIT_TSX=1 goes back to tsx.
	register, regErr := findUpwards(programDir, "tools/engine/register.cjs")
	tsx, tsxErr := findUpwards(programDir, "node_modules/tsx/dist/loader.mjs")
	if regErr == nil && os.Getenv("NFVKIT_TSX") != "1" {
		nodeArgs = append(nodeArgs, "--require", register)
	} else if tsxErr == nil {
		nodeArgs = append(nodeArgs, "--import", "file://"+tsx)
	} else {
		// Fall back to the SDK's own ts-node support.
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	nodeArgs = append(nodeArgs, runScript,
		"--monitor", req.GetMonitorAddress(),
		"--project", req.GetProject(),
		"--stack", req.GetStack(),
		"--pwd", programDir,
		"--root-directory", rootDir,
		"--parallel", fmt.Sprint(req.GetParallel()),
	)
	if h.engineAddress != "" {
		nodeArgs = append(nodeArgs, "--engine", h.engineAddress)
	}
	if req.GetOrganization() != "" {
		nodeArgs = append(nodeArgs, "--organization", req.GetOrganization())
	}
	if req.GetDryRun() {
		nodeArgs = append(nodeArgs, "--dry-run")
	}
	nodeArgs = append(nodeArgs, entryPoint)
	nodeArgs = append(nodeArgs, req.GetArgs()...)

	config, err := json.Marshal(nonNil(req.GetConfig()))
	if err != nil {
		return nil, err
	}
	secretKeys, err := json.Marshal(nonNilSlice(req.GetConfigSecretKeys()))
	if err != nil {
		return nil, err
	}
	env = append(env, "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys))

	cmd := exec.CommandContext(ctx, "node", nodeArgs...)
	cmd.Dir = programDir
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	// A cancelled update must stop the program gracefully first.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	// The program stays in this language host's process group: the engine ends
	// a plugin by killing its group, and the program must go with it (a program
	// left running keeps the engine waiting on its resource monitor).

	if err := cmd.Start(); err != nil {
		return &pulumirpc.RunResponse{Error: "could not start node (is Node.js on PATH?): " + err.Error()}, nil
	}
	programs.add(cmd.Process.Pid)
	err = cmd.Wait()
	programs.remove(cmd.Process.Pid)
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == exitCodeAlreadyReported {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{Error: "program failed: " + err.Error()}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// programs are the programs this host is running.
var programs = &runningPrograms{pids: map[int]bool{}}

type runningPrograms struct {
	mu   sync.Mutex
	pids map[int]bool
}

func (p *runningPrograms) add(pid int)    { p.mu.Lock(); p.pids[pid] = true; p.mu.Unlock() }
func (p *runningPrograms) remove(pid int) { p.mu.Lock(); delete(p.pids, pid); p.mu.Unlock() }

// killAll ends every running program. When the engine made this host the
// leader of its own process group (it does, to end plugins as a group), the
// whole group goes, which also takes what the programs started. Otherwise the
// group is someone else's (a shell's), so only the programs themselves.
func (p *runningPrograms) killAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if syscall.Getpgrp() == os.Getpid() {
		for pid := range p.pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		_ = syscall.Kill(0, syscall.SIGKILL)
		return
	}
	for pid := range p.pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// exitWithEngine ends this language host, and the programs it runs, once the
// engine that started it is gone. A CLI killed with SIGKILL cannot tell its
// plugins to stop; they are handed to init (or a subreaper), which is how we
// notice. Polling the parent is portable across kernels and, unlike
// PR_SET_PDEATHSIG, does not depend on which engine thread started us.
//
// The parent read at start is the engine only if the engine was still alive
// then. A kill that lands between the engine starting us and that read leaves
// us a child of init from the start, so a changed parent never shows; this
// happened in CI (a language host left for minutes after its run was killed).
// So the engine is first asked once where it listens: an address that refuses
// connections means it is gone already.
func exitWithEngine(engine int, address string) {
	if _, _, err := net.SplitHostPort(address); err == nil {
		// Only a refusal says the engine is gone; a slow answer says nothing.
		conn, err := net.DialTimeout("tcp", address, 2*time.Second)
		if errors.Is(err, syscall.ECONNREFUSED) {
			stopForEngine(engine)
		}
		if err == nil {
			conn.Close()
		}
	}
	for {
		time.Sleep(500 * time.Millisecond)
		if os.Getppid() != engine {
			stopForEngine(engine)
		}
	}
}

func stopForEngine(engine int) {
	programs.killAll()
	fmt.Fprintf(os.Stderr, "nfvkit language host: the engine (pid %d) is gone; stopping\n", engine)
	os.Exit(1)
}

// findUpwards looks for rel in dir and its parents, as Node's module resolution does.
func findUpwards(dir, rel string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		candidate := filepath.Join(d, rel)
		if _, err := os.Stat(candidate); err == nil {
			return candidate, nil
		}
		if parent := filepath.Dir(d); parent == d {
			return "", os.ErrNotExist
		}
	}
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
