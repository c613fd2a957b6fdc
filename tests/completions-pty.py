#!/usr/bin/env python3
"""completions-pty.py TOP: type into real shells under a pty and check the
completions offered for the four client tools: --tls values, --auth values,
account names (-a and, where the tool takes one, the ACCOUNT argument); and
mailflow-config's command and --from formats.
bash always (bash-completion must be installed); zsh and fish when they are
installed (fish through "complete -C", its own non-interactive completer).
Bounded: every shell gets a few seconds and is killed after."""
import os
import pty
import select
import signal
import shutil
import subprocess
import sys
import tempfile
import time

TOP = sys.argv[1]
TOOLS = ["mailsend", "smtp-auth-test", "pop-fetch", "imap-sync"]
TLS = ["starttls", "implicit", "none", "auto"]
AUTH = ["auto", "PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256", "XOAUTH2"]
ACCOUNTS = ["alpha", "beta"]
FORMATS = ["msmtp", "mpop", "mbsync"]
fails = []


def pty_session(argv, env, script, want, limit=30.0):
    """Run argv under a pty, send script (bytes) once the prompt shows and
    return the output as soon as every word of want appeared in it (or
    after limit seconds, for the check to report what is missing)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, env)
    out = b""
    # Type only once the shell shows its prompt (its setup is done).
    end = time.time() + limit
    while b"$ " not in out and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                out += os.read(fd, 65536)
            except OSError:
                break
    start = len(out)
    os.write(fd, script)
    while time.time() < end:
        text = out[start:].decode("utf-8", "replace")
        if all(w in text for w in want):
            break
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    os.close(fd)
    return out[start:].decode("utf-8", "replace")


def check(shell, tool, what, out, words):
    missing = [w for w in words if w not in out]
    if missing:
        fails.append("%s %s %s: missing %s" % (shell, tool, what, missing))
    else:
        print("ok   %s %s %s" % (shell, tool, what))


def env_for(home):
    env = dict(os.environ, HOME=home, TERM="dumb", PS1="$ ",
               XDG_CONFIG_HOME=os.path.join(home, "cfg"))
    env.pop("MAILFLOW_CONFIG", None)
    return env


def bash_case(home, tool, typed, want):
    rc = os.path.join(home, "bashrc")
    with open(rc, "w") as f:
        f.write("PS1='$ '\nsource /usr/share/bash-completion/bash_completion\n"
                "source %s/completions/bash/%s\n"
                "bind 'set show-all-if-ambiguous on'\n"
                "bind 'set completion-query-items 0'\n"
                "bind 'set page-completions off'\n" % (TOP, tool))
    return pty_session(["bash", "--rcfile", rc, "-i"], env_for(home),
                       typed.encode() + b"\t\t", want)


def zsh_case(home, tool, typed, want):
    zdir = os.path.join(home, "zfunc")
    os.makedirs(zdir, exist_ok=True)
    shutil.copy(os.path.join(TOP, "completions/zsh/_" + tool), zdir)
    with open(os.path.join(home, ".zshrc"), "w") as f:
        f.write("PS1='$ '\nfpath=(%s $fpath)\nautoload -U compinit\n"
                "compinit -u -D\nzstyle ':completion:*' list-prompt ''\n"
                "LISTMAX=0\n" % zdir)
    env = env_for(home)
    env["ZDOTDIR"] = home
    return pty_session(["zsh", "-i"], env, typed.encode() + b"\t", want)


def fish_case(home, tool, typed, want):
    # As installed: the shared function autoloads from a functions dir.
    cmd = ("set fish_function_path %s/completions/fish/functions "
           "$fish_function_path; source %s/completions/fish/%s.fish; "
           "complete -C '%s'" % (TOP, TOP, tool, typed.replace("'", "\\'")))
    r = subprocess.run(["fish", "--no-config", "-c", cmd], env=env_for(home),
                       capture_output=True, text=True, timeout=30)
    return r.stdout


def main():
    home = tempfile.mkdtemp(prefix="mf-compl-")
    os.makedirs(os.path.join(home, "cfg/mailflow"))
    with open(os.path.join(home, "cfg/mailflow/config"), "w") as f:
        f.write("account alpha\nhost a.example\naccount beta\nhost b.example\n")
    shells = [("bash", bash_case)]
    if shutil.which("zsh"):
        shells.append(("zsh", zsh_case))
    else:
        print("skip zsh: not installed")
    if shutil.which("fish"):
        shells.append(("fish", fish_case))
    else:
        print("skip fish: not installed")
    for name, case in shells:
        sep = "=" if name == "zsh" else " "
        def run(tool, what, typed, words):
            check(name, tool, what, case(home, tool, typed, words), words)
        for tool in TOOLS:
            run(tool, "--tls", tool + " --tls" + sep, TLS)
            run(tool, "--auth", tool + " --auth" + sep, AUTH)
            run(tool, "-a", tool + " -a ", ACCOUNTS)
            if tool in ("pop-fetch", "imap-sync"):
                run(tool, "ACCOUNT", tool + " ", ACCOUNTS)
        cfg = "mailflow-config"
        run(cfg, "COMMAND", cfg + " ", ["import"])
        # zsh inserts the formats' common "m" first, then lists
        run(cfg, "--from", cfg + " import --from" + sep +
            ("m" if name == "zsh" else ""), FORMATS)
    shutil.rmtree(home, ignore_errors=True)
    for f in fails:
        print("FAIL " + f)
    print("completions-pty: %d failed" % len(fails))
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
