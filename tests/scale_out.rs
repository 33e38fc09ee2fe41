//! docs/scale-out.md, run for real on loopback: a scan split with `ipgen --shard K/N` across
//! "machines" by GNU parallel `--sshlogin` (two ssh_config hosts, both a real OpenSSH sshd on
//! 127.0.0.1), and the Kubernetes Indexed Job of deploy/k8s/sikscan-job.yaml (parsed as YAML, its
//! container script run once per completion index). Each shard saves into its own batchsave
//! directory; the tests check every address is saved exactly once across the shards, that
//! `--skip-done` over the shard directories skips all of them, and the merge recipe.
//!
//! Fleets: siksim on port 2340, 127.140.1.0/24 (parallel) and 127.141.1.0/24 (Kubernetes);
//! sshd on 127.0.0.1:2341.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sikscan::record::{Record, Status};
use support::fleet::{fleet, group};
use support::require::require;
use support::{IPGEN, SIKPROBE, Siksim, Sshd, parse_records};

const PORT: &str = "2340";
const SSHD_PORT: u16 = 2341;
const SHARDS: usize = 4;
const PASSWORD: &str = "shard-secret-4711";

/// The directory of the binaries built for this test run (what a worker has on PATH).
fn bin_dir() -> PathBuf {
    Path::new(IPGEN).parent().expect("bin dir").to_path_buf()
}

fn path_with_bins() -> String {
    format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Serves a fleet in `net` (127.140 or 127.141) whose password is not the default: the shards
/// only log in when the password reaches them through the file or the Secret's variable.
fn serve_fleet(net: &str) -> Siksim {
    let range = |first: u8, last: u8| format!("{net}.1.{first}-{net}.1.{last}");
    let shards = fleet([
        group(&range(1, 60), "eh"),
        group(&range(61, 66), "bu"),
        group(&range(67, 70), "closed"),
        group(&range(71, 72), "wrong-password"),
    ])
    .user("admin")
    .password(PASSWORD);
    Siksim::serve(&shards, &["--port", PORT])
}

/// A batchscanner network file for the fleet, with an overlap that must be scanned once.
fn network_file(dir: &Path, net: &str) -> PathBuf {
    let path = dir.join("network.txt");
    std::fs::write(
        &path,
        format!("# the lab\n{net}.1.1 - {net}.1.72\n{net}.1.0/28\n"),
    )
    .expect("network file");
    path
}

/// What siksim says each address it serves reports with the default action, by address.
fn expected(sim: &Siksim) -> BTreeMap<String, Status> {
    sim.describe()
        .into_iter()
        .map(|device| {
            let ip = device["ip"].as_str().expect("ip").to_owned();
            let status: Status =
                serde_json::from_value(device["status"].clone()).expect("a status");
            (ip, status)
        })
        .collect()
}

fn lines(output: &[u8]) -> BTreeSet<String> {
    String::from_utf8_lossy(output)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The addresses of shard K of N of the network file, as ipgen prints them.
fn shard_addresses(network: &Path, k: usize) -> BTreeSet<String> {
    let out = Command::new(IPGEN)
        .arg("-f")
        .arg(network)
        .args(["--shard", &format!("{k}/{SHARDS}")])
        .output()
        .expect("ipgen runs");
    assert!(out.status.success());
    lines(&out.stdout)
}

/// A record's address (every record of these fleets has one).
fn ip_of(record: &Record) -> String {
    record.ip.expect("a record with an address").to_string()
}

/// Every record in a batchsave directory's NDJSON batches.
fn saved_records(dir: &Path) -> Vec<Record> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("batch-") && name.ends_with(".ndjson")
        })
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|file| parse_records(&std::fs::read(file).expect("batch file")))
        .collect()
}

/// The manifest's totals: records and counts per status.
fn manifest_totals(dir: &Path) -> (u64, BTreeMap<String, u64>) {
    let text = std::fs::read_to_string(dir.join("manifest.json"))
        .unwrap_or_else(|e| panic!("{}/manifest.json: {e}", dir.display()));
    let manifest: serde_json::Value = serde_json::from_str(&text).expect("manifest is JSON");
    let totals = &manifest["totals"];
    let statuses = totals["statuses"]
        .as_object()
        .expect("statuses")
        .iter()
        .map(|(name, count)| (name.clone(), count.as_u64().expect("a count")))
        .collect();
    (totals["records"].as_u64().expect("records"), statuses)
}

fn assert_success(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Checks the shard directories `root/shard-1..N`: shard K holds exactly `ipgen --shard K/N`,
/// every address of the network file is saved exactly once across them with the status siksim
/// promises, and each manifest counts what its files hold. Returns the summed status counts.
fn check_shards(
    root: &Path,
    network: &Path,
    want: &BTreeMap<String, Status>,
) -> BTreeMap<String, u64> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
    for k in 1..=SHARDS {
        let dir = root.join(format!("shard-{k}"));
        let records = saved_records(&dir);
        let ips: BTreeSet<String> = records.iter().map(ip_of).collect();
        assert_eq!(ips.len(), records.len(), "shard {k} saved an address twice");
        assert_eq!(
            ips,
            shard_addresses(network, k),
            "shard {k} holds its shard"
        );
        for record in &records {
            let ip = ip_of(record);
            *seen.entry(ip.clone()).or_default() += 1;
            assert_eq!(
                Some(&record.status),
                want.get(&ip),
                "{ip}: {:?}",
                record.error
            );
        }
        let (total, counts) = manifest_totals(&dir);
        assert_eq!(
            total,
            records.len() as u64,
            "shard {k}'s manifest counts its records"
        );
        for (status, count) in counts {
            *statuses.entry(status).or_default() += count;
        }
    }
    let all: BTreeSet<String> = want.keys().cloned().collect();
    assert_eq!(
        seen.keys().cloned().collect::<BTreeSet<_>>(),
        all,
        "every address saved"
    );
    assert!(
        seen.values().all(|&n| n == 1),
        "every address exactly once: {:?}",
        seen.iter().filter(|(_, n)| **n != 1).collect::<Vec<_>>()
    );
    assert_eq!(statuses.values().sum::<u64>(), all.len() as u64);
    statuses
}

/// `sikprobe --skip-done` over the shard directories: run on the whole network file it finds
/// every host done and probes none; given every shard directory but one, it probes exactly
/// that shard again.
fn check_skip_done_across(root: &Path, network: &Path, extra: &[&str]) {
    let probe = |skip: &[PathBuf]| -> Output {
        let mut ipgen = Command::new(IPGEN)
            .arg("-f")
            .arg(network)
            .stdout(Stdio::piped())
            .spawn()
            .expect("ipgen runs");
        let out = Command::new(SIKPROBE)
            .args(["-p", PORT, "-j", "50", "--password-file"])
            .args(extra)
            .arg("--skip-done")
            .args(skip)
            .stdin(ipgen.stdout.take().expect("piped"))
            .output()
            .expect("sikprobe runs");
        assert!(ipgen.wait().expect("ipgen exits").success());
        assert_success(&out, "sikprobe --skip-done");
        out
    };
    // The parent directory holds every shard (--skip-done searches directories recursively).
    let out = probe(&[root.to_path_buf()]);
    assert!(
        out.stdout.is_empty(),
        "nothing left to probe, got:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The shards named one by one, shard 3 left out: exactly shard 3 is probed again.
    let others: Vec<PathBuf> = [1, 2, 4]
        .iter()
        .map(|k| root.join(format!("shard-{k}")))
        .collect();
    let out = probe(&others);
    let again: BTreeSet<String> = parse_records(&out.stdout).iter().map(ip_of).collect();
    assert_eq!(again, shard_addresses(network, 3));
}

/// The merge recipe: every shard's NDJSON batches into one batchsave directory.
fn check_merge(root: &Path, statuses: &BTreeMap<String, u64>) {
    let controller = root.parent().expect("root has a parent");
    let merged = controller.join("merged");
    let out = Command::new("bash")
        .arg("-c")
        .arg("set -o pipefail; cat out/shard-*/batch-*.ndjson | batchsave -q merged/")
        .current_dir(controller)
        .env("PATH", path_with_bins())
        .output()
        .expect("bash runs");
    assert_success(&out, "the merge recipe");
    let (total, counts) = manifest_totals(&merged);
    assert_eq!(&counts, statuses, "the merged manifest counts every shard");
    assert_eq!(total, statuses.values().sum::<u64>());
    let ips: Vec<String> = saved_records(&merged).iter().map(ip_of).collect();
    let unique: BTreeSet<&String> = ips.iter().collect();
    assert_eq!(unique.len(), ips.len(), "merged: every address once");
}

#[test]
fn gnu_parallel_sshlogin_shards_are_disjoint_complete_and_mergeable() {
    for program in ["parallel", "rsync", "ssh"] {
        require(program);
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let net = "127.140";
    let sim = serve_fleet(net);
    let want = expected(&sim);
    let sshd = Sshd::start(SSHD_PORT);

    // The controller's directory: the network file, ssh_config for the two "workers", and where
    // the shards' results come back. The workers work in their own directory.
    let controller = tmp.path().join("controller");
    let worker = tmp.path().join("worker");
    std::fs::create_dir_all(&controller).expect("controller dir");
    let network = network_file(&controller, net);
    let mut ssh_config = String::new();
    for host in ["worker-a", "worker-b"] {
        ssh_config.push_str(&format!(
            "Host {host}\n  HostName 127.0.0.1\n  Port {}\n  User root\n  IdentityFile {}\n  \
             IdentitiesOnly yes\n  BatchMode yes\n  StrictHostKeyChecking no\n  \
             UserKnownHostsFile /dev/null\n  LogLevel ERROR\n",
            sshd.port,
            sshd.key("user_key")
        ));
    }
    std::fs::write(controller.join("ssh_config"), ssh_config).expect("ssh_config");
    // The password file each worker keeps (mode 600); never in argv.
    let password_file = tmp.path().join("password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).expect("password file");
    std::fs::set_permissions(
        &password_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .expect("chmod 600");

    // docs/scale-out.md's recipe; the worker's PATH and sikprobe's port are the test's.
    let job = format!(
        "PATH={bins}:$PATH; mkdir -p out/shard-{{}} && ipgen -f network.txt --shard {{}}/{SHARDS} \
         | sikprobe -p {PORT} -j 50 --password-file {pw} --skip-done out/shard-{{}} \
         | batchsave -q out/shard-{{}}",
        bins = bin_dir().display(),
        pw = password_file.display(),
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "seq {SHARDS} | parallel --ssh 'ssh -F ssh_config' -S 2/worker-a,2/worker-b \
             --workdir {worker} --basefile network.txt --return out/shard-{{}} --halt now,fail=1 \
             \"$JOB\"",
            worker = worker.display()
        ))
        .env("JOB", &job)
        .current_dir(&controller)
        .stdin(Stdio::null())
        .output()
        .expect("bash runs");
    assert_success(&out, "parallel --sshlogin");

    // Results came back to the controller, and the workers keep theirs (for --skip-done there).
    let statuses = check_shards(&controller.join("out"), &network, &want);
    assert!(worker.join("out/shard-1/manifest.json").exists());
    assert!(statuses["ok"] > 0 && statuses["refused"] > 0 && statuses["auth-failed"] > 0);

    // A second run of the same command (a failed shard retried) probes nothing again.
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "seq {SHARDS} | parallel --ssh 'ssh -F ssh_config' -S 2/worker-a,2/worker-b \
             --workdir {worker} --basefile network.txt --return out/shard-{{}} \"$JOB\"",
            worker = worker.display()
        ))
        .env("JOB", &job)
        .current_dir(&controller)
        .stdin(Stdio::null())
        .output()
        .expect("parallel runs");
    assert_success(&out, "parallel --sshlogin, again");
    assert_eq!(
        check_shards(&controller.join("out"), &network, &want),
        statuses
    );

    check_skip_done_across(
        &controller.join("out"),
        &network,
        &[password_file.to_str().expect("UTF-8")],
    );
    check_merge(&controller.join("out"), &statuses);
}

/// Reads the Job manifest as YAML.
fn job_manifest() -> yaml_serde::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/k8s/sikscan-job.yaml");
    let text = std::fs::read_to_string(&path).expect("deploy/k8s/sikscan-job.yaml");
    yaml_serde::from_str(&text).expect("the Job manifest is valid YAML")
}

fn env_value<'a>(container: &'a yaml_serde::Value, name: &str) -> &'a yaml_serde::Value {
    container["env"]
        .as_sequence()
        .expect("env is a list")
        .iter()
        .find(|var| var["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("env {name} is set"))
}

#[test]
fn kubernetes_indexed_job_manifest_selects_one_shard_per_index() {
    let job = job_manifest();
    assert_eq!(job["apiVersion"].as_str(), Some("batch/v1"));
    assert_eq!(job["kind"].as_str(), Some("Job"));
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let completions = spec["completions"].as_u64().expect("completions");
    assert_eq!(spec["parallelism"].as_u64(), Some(completions));
    let pod = &spec["template"]["spec"];
    assert!(
        matches!(pod["restartPolicy"].as_str(), Some("Never" | "OnFailure")),
        "a Job's pods never restart Always"
    );
    let containers = pod["containers"].as_sequence().expect("containers");
    assert_eq!(containers.len(), 1);
    let container = &containers[0];

    // N shards, N completions: SHARDS is the N of --shard K/N.
    let shards: u64 = env_value(container, "SHARDS")["value"]
        .as_str()
        .expect("SHARDS is a string")
        .parse()
        .expect("SHARDS is a number");
    assert_eq!(shards, completions, "SHARDS == completions == parallelism");
    assert_eq!(shards as usize, SHARDS, "this test runs {SHARDS} indexes");

    // The password comes from a Secret through the environment, never a literal or argv.
    let password = env_value(container, "SIKPROBE_PASSWORD");
    assert!(password.get("value").is_none(), "no literal password");
    let secret = &password["valueFrom"]["secretKeyRef"];
    assert!(secret["name"].as_str().is_some() && secret["key"].as_str().is_some());
    let command = container["command"].as_sequence().expect("command");
    let args = container["args"].as_sequence().expect("args");
    assert_eq!(args.len(), 1, "one script");
    let script = args[0].as_str().expect("the script").to_owned();
    for word in command.iter().chain(args) {
        let word = word.as_str().expect("strings");
        assert!(!word.contains("--password"), "no password flag in argv");
        assert!(
            !word.contains("SIKPROBE_PASSWORD"),
            "the password is not expanded into argv"
        );
    }
    assert!(script.contains("JOB_COMPLETION_INDEX + 1"), "{script}");
    assert!(script.contains("--shard \"$shard/$SHARDS\""), "{script}");
    let mounts: Vec<&str> = container["volumeMounts"]
        .as_sequence()
        .expect("volumeMounts")
        .iter()
        .map(|m| m["mountPath"].as_str().expect("mountPath"))
        .collect();
    let results = env_value(container, "RESULTS_DIR")["value"]
        .as_str()
        .expect("RESULTS_DIR");
    assert!(
        mounts.contains(&results),
        "results go to a volume: {mounts:?}"
    );
    let network = env_value(container, "NETWORK_FILE")["value"]
        .as_str()
        .expect("NETWORK_FILE");
    assert!(
        mounts.iter().any(|m| network.starts_with(m)),
        "the network file comes from a volume"
    );

    // Run the container's script once per index, all at once like the Job's pods, with the
    // volumes, the Secret and sikprobe's flags replaced by the test's.
    let tmp = tempfile::tempdir().expect("temp dir");
    let net = "127.141";
    let sim = serve_fleet(net);
    let want = expected(&sim);
    let network = network_file(tmp.path(), net);
    let results = tmp.path().join("results");
    let run_index = |index: u64| {
        let mut cmd = Command::new(command[0].as_str().expect("the shell"));
        cmd.args(command[1..].iter().map(|w| w.as_str().expect("string")))
            .arg(&script)
            .env_clear()
            .env("PATH", path_with_bins())
            .env("JOB_COMPLETION_INDEX", index.to_string())
            .env("SHARDS", shards.to_string())
            .env("NETWORK_FILE", &network)
            .env("RESULTS_DIR", &results)
            .env("SIKPROBE_ARGS", format!("-p {PORT} -j 50"))
            .env("SIKPROBE_PASSWORD", PASSWORD)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the container's shell runs")
    };
    let pods: Vec<_> = (0..completions).map(run_index).collect();
    for pod in pods {
        assert_success(&pod.wait_with_output().expect("pod finishes"), "a pod");
    }
    let statuses = check_shards(&results, &network, &want);
    assert!(statuses["ok"] > 0, "the Secret's password logged in");

    // A retried pod (index 2 again) resumes from its directory and saves nothing twice.
    assert_success(
        &run_index(2).wait_with_output().expect("pod finishes"),
        "a retried pod",
    );
    assert_eq!(check_shards(&results, &network, &want), statuses);
}
