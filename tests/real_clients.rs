//! siksim as real clients see it, beside the real server it imitates: paramiko (Debian's
//! python3-paramiko) logs in to a keyboard-interactive radio as it logs in to OpenSSH, and a
//! shell opened without a terminal on the `linux` persona prints what bash behind a real
//! OpenSSH sshd prints (nothing until input, no echo, errors on stderr).
//!
//! siksim serves 127.202.1.0/24 on port 2411 and 127.202.2.0/24 on port 2413; the real sshd
//! listens on 127.0.0.1:2412 (it needs root).

mod support;

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use support::require::require_python_module;
use support::{Siksim, Sshd, temp_file};

/// The paramiko client the tests run: `login` logs in with the password (SSHClient.connect, its
/// fallback from `password` to keyboard-interactive included); `script` opens a shell channel
/// without a PTY, records what arrives before any input, sends the input, closes its side and
/// reads everything until the exit status. It prints one JSON object. Secrets come from the
/// environment, never argv.
const CLIENT: &str = r#"
import json, os, sys, time
import paramiko

mode, host, port, user = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
password = os.environ.get("SIKSCAN_TEST_PASSWORD")
key = os.environ.get("SIKSCAN_TEST_KEY")

def login():
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    try:
        client.connect(host, port=port, username=user, password=password, look_for_keys=False,
                       allow_agent=False, timeout=5, banner_timeout=5, auth_timeout=10)
    except Exception as e:
        return {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
    banner = client.get_transport().get_banner()
    _, stdout, _ = client.exec_command("show system", timeout=10)
    output = stdout.read().decode()
    client.close()
    return {"ok": True, "banner": banner.decode() if banner else None, "output": output}

def script():
    transport = paramiko.Transport((host, port))
    transport.connect()
    if key:
        transport.auth_publickey(user, paramiko.Ed25519Key.from_private_key_file(key))
    else:
        transport.auth_password(user, password)
    channel = transport.open_session()
    channel.invoke_shell()
    before = b""
    until = time.time() + 1.5
    while time.time() < until:
        if channel.recv_ready():
            before += channel.recv(65536)
        time.sleep(0.01)
    channel.sendall(sys.stdin.buffer.read())
    channel.shutdown_write()
    out, err = b"", b""
    until = time.time() + 20
    while time.time() < until:
        if channel.recv_ready():
            out += channel.recv(65536)
        elif channel.recv_stderr_ready():
            err += channel.recv_stderr(65536)
        elif channel.exit_status_ready():
            break
        else:
            time.sleep(0.01)
    status = channel.recv_exit_status() if channel.exit_status_ready() else None
    transport.close()
    return {"before": before.decode(), "stdout": out.decode(), "stderr": err.decode(),
            "exit_status": status}

print(json.dumps(login() if mode == "login" else script()))
"#;

/// How a client authenticates: siksim's password, or the real sshd's authorised key.
enum Secret {
    Password(&'static str),
    Key(PathBuf),
}

/// Runs [`CLIENT`] in `mode` against `host:port` as `user`, feeding `input`; its JSON answer.
#[track_caller]
fn paramiko(mode: &str, host: &str, port: u16, user: &str, secret: &Secret, input: &str) -> Value {
    let python = require_python_module("paramiko");
    let (_dir, script) = temp_file("client.py", CLIENT);
    let (_input_dir, input_file) = temp_file("input", input);
    let mut command = Command::new(python);
    command
        .arg(&script)
        .args([mode, host, &port.to_string(), user])
        .stdin(std::fs::File::open(&input_file).expect("the input file"));
    match secret {
        Secret::Password(password) => command.env("SIKSCAN_TEST_PASSWORD", password),
        Secret::Key(key) => command.env("SIKSCAN_TEST_KEY", key),
    };
    let out = command.output().expect("python3 runs");
    assert!(
        out.status.success(),
        "the paramiko client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "the client prints JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// siksim's default credentials (admin/admin), which its radios accept.
const SIM_PASSWORD: Secret = Secret::Password("admin");

#[test]
fn paramiko_logs_in_to_a_keyboard_interactive_radio() {
    // paramiko tries `password`, is told only keyboard-interactive may continue, and asks for
    // the ssh-userauth service again before trying it; OpenSSH answers that, so siksim must.
    let sim = Siksim::start(&[
        "127.202.1.1",
        "--persona",
        "kbd-interactive",
        "--port",
        "2411",
        "-q",
    ]);
    let truth = sim.describe();
    let answer = paramiko("login", "127.202.1.1", 2411, "admin", &SIM_PASSWORD, "");
    assert_eq!(answer["ok"], Value::Bool(true), "{answer}");
    // No banner check: paramiko's fallback starts a new authentication handler, which forgets
    // the banner the first one read; against OpenSSH 9.2 with the same methods it is lost too.
    let output = answer["output"].as_str().expect("show system's output");
    let name = output
        .lines()
        .find_map(|line| line.strip_prefix("system name"))
        .and_then(|rest| rest.split_once(':'))
        .map(|(_, value)| value.trim());
    assert_eq!(name, truth[0]["name"].as_str(), "{output}");
}

#[test]
fn a_shell_without_a_terminal_on_the_linux_persona_is_what_bash_behind_sshd_gives() {
    let input = "echo sikprobe'-'shell\nnosuchcommand --help\n";
    let sshd = Sshd::start(2412);
    let real = paramiko(
        "script",
        "127.0.0.1",
        sshd.port,
        "root",
        &Secret::Key(PathBuf::from(sshd.key("user_key"))),
        input,
    );
    let _sim = Siksim::start(&["127.202.2.1", "--persona", "linux", "--port", "2413", "-q"]);
    let simulated = paramiko("script", "127.202.2.1", 2413, "admin", &SIM_PASSWORD, input);

    // What a real bash gives, written out, so that both are checked against it.
    assert_eq!(real["before"], "", "no prompt, no banner: {real}");
    assert_eq!(real["stdout"], "sikprobe-shell\n", "{real}");
    assert_eq!(
        real["stderr"], "-bash: line 2: nosuchcommand: command not found\n",
        "{real}"
    );
    assert_eq!(real["exit_status"], 127, "{real}");
    assert_eq!(simulated, real, "siksim's linux persona differs from bash");
}
