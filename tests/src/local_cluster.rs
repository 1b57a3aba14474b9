//! A local Ballista cluster for tests and benchmarks: `viewdag-cli cluster --executors N`
//! (a scheduler and N executors, each its own process), started and stopped by the caller.
//!
//! ## Invariants
//! - `start` returns once the supervisor printed `scheduler: df://…`, after one line per
//!   executor (their pids are kept, so a test can stop or kill one).
//! - Dropping the cluster stops it (SIGTERM; the supervisor stops every node before it exits),
//!   so no node outlives its owner.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use viewdag_ballista::{BallistaEngine, SchedulerAddress};

/// A running `viewdag cluster`.
pub struct LocalCluster {
    /// The supervisor process (`viewdag-cli cluster`).
    pub supervisor: Child,
    /// Where its scheduler listens.
    pub scheduler: SchedulerAddress,
    /// The executors' process ids, in start order.
    pub executor_pids: Vec<u32>,
}

impl LocalCluster {
    /// Starts `cli cluster --executors N` and waits (up to two minutes) until it listens.
    pub fn start(cli: &Path, executors: usize) -> LocalCluster {
        LocalCluster::start_with(cli, executors, &[])
    }

    /// Starts `cli cluster --executors N ARGUMENTS…` (e.g. `--ballista-codec`).
    pub fn start_with(cli: &Path, executors: usize, arguments: &[&str]) -> LocalCluster {
        LocalCluster::start_in_environment(cli, executors, arguments, &[])
    }

    /// Starts `cli cluster --executors N ARGUMENTS…` with `environment` added to the nodes'
    /// (inherited) environment: e.g. the `AWS_*` variables executors read object stores with.
    pub fn start_in_environment(cli: &Path, executors: usize, arguments: &[&str], environment: &[(String, String)]) -> LocalCluster {
        let mut supervisor = Command::new(cli)
            .args(["cluster", "--executors", &executors.to_string()])
            .args(arguments)
            .envs(environment.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error} (build it with --bin viewdag-cli)", cli.display()));
        let stdout = supervisor.stdout.take().expect("piped stdout");
        let (lines, received) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let mut executor_pids = Vec::new();
        loop {
            let line = match received.recv_timeout(Duration::from_secs(120)) {
                Ok(line) => line,
                Err(error) => {
                    let _ = supervisor.kill();
                    let _ = supervisor.wait();
                    panic!("`viewdag cluster` did not print its scheduler: {error}");
                }
            };
            if let Some(address) = line.strip_prefix("scheduler: ") {
                let scheduler = SchedulerAddress::parse(address).expect("a df:// address");
                assert_eq!(executor_pids.len(), executors, "one line per executor before the scheduler's");
                return LocalCluster { supervisor, scheduler, executor_pids };
            }
            let pid = line.split("pid ").nth(1).and_then(|rest| rest.split_whitespace().next()).and_then(|pid| pid.parse().ok());
            executor_pids.push(pid.unwrap_or_else(|| panic!("an executor line with a pid: {line}")));
        }
    }

    /// The engine that runs on this cluster (default task timeout).
    pub fn engine(&self) -> BallistaEngine {
        BallistaEngine::new(self.scheduler.clone())
    }

    /// Sends SIGTERM and waits: the supervisor stops every node before it exits.
    pub fn stop(&mut self) -> ExitStatus {
        let _ = Command::new("kill").args(["-TERM", &self.supervisor.id().to_string()]).status();
        self.supervisor.wait().expect("the supervisor is reaped")
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        if let Ok(None) = self.supervisor.try_wait() {
            self.stop();
        }
    }
}
