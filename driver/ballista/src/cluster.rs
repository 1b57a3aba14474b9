//! `viewdag cluster --executors N [--port P]`: a Ballista scheduler and N executors on this
//! machine, each a separate `viewdag cluster-node …` process, for trying the distributed
//! mode without a real cluster.
//!
//! The executors write their shuffle files under one work directory of the cluster's own,
//! on the machine's memory file system (`/dev/shm`) when it has room, else in the system's
//! temporary directory (or where `--work-dir` says), and the supervisor deletes it when the
//! cluster stops: Ballista's shuffles write every stage's output to files and read them back,
//! which on a shared disk is most of what one executor costs over a local run (BENCHMARKS.md).
//!
//! ## Invariants
//! - `scheduler: df://HOST:PORT` is printed (and flushed) only once the scheduler accepts
//!   connections and every executor serves; tools may wait for that line.
//! - The cluster's work directory is created fresh and removed when the cluster stops
//!   (also after a failed start); nothing else is deleted.
//! - Ctrl-C or SIGTERM stops every child before the command returns; so does the scheduler
//!   dying. An executor that dies is reported and the cluster keeps serving with the rest
//!   (the way Ballista handles a lost machine).

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cluster_error::ClusterError;
use crate::cluster_node::{ExecutorOptions, LOOPBACK, NodeCodec};

/// How long a node may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A started node and what it serves on.
struct Node {
    name: String,
    child: Child,
    port: u16,
}

/// What `viewdag cluster` starts.
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// How many executors (at least one).
    pub executors: usize,
    /// The scheduler's port (default: a free one).
    pub port: Option<u16>,
    /// Every node's codec, and each executor's task slots; `work_dir` is where the cluster's
    /// own work directory is created (default: `/dev/shm` when it has room, else the system's
    /// temporary directory).
    pub executor: ExecutorOptions,
}

/// Free space `/dev/shm` must have for the cluster's shuffle files to go there.
const MEMORY_WORK_DIR_MINIMUM: u64 = 2 << 30;

/// Starts the cluster, prints its address to `out`, and serves until a signal arrives.
pub fn run_cluster(options: &ClusterOptions, out: &mut dyn Write) -> Result<(), ClusterError> {
    let executable = std::env::current_exe().map_err(ClusterError::Executable)?;
    let parent = options.executor.work_dir.clone().unwrap_or_else(default_work_root);
    let work_dir = parent.join(format!("viewdag-cluster-{}", std::process::id()));
    std::fs::create_dir_all(&work_dir).map_err(|source| ClusterError::WorkDirectory { path: work_dir.clone(), source })?;
    let mut nodes: Vec<Node> = Vec::new();
    let started = start_nodes(&executable, options, &work_dir, &mut nodes, out);
    let outcome = started.and_then(|()| supervise(&mut nodes));
    stop(&mut nodes);
    let _ = std::fs::remove_dir_all(&work_dir);
    outcome
}

/// `/dev/shm` when it is a directory with room, else the system's temporary directory.
fn default_work_root() -> PathBuf {
    let memory = Path::new("/dev/shm");
    let room = std::process::Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(memory)
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.lines().nth(1).and_then(|line| line.trim().parse::<u64>().ok()));
    match room {
        Some(bytes) if memory.is_dir() && bytes >= MEMORY_WORK_DIR_MINIMUM => memory.to_path_buf(),
        _ => std::env::temp_dir(),
    }
}

fn start_nodes(
    executable: &Path,
    options: &ClusterOptions,
    work_dir: &Path,
    nodes: &mut Vec<Node>,
    out: &mut dyn Write,
) -> Result<(), ClusterError> {
    let ClusterOptions { executors, port, executor } = options;
    let executors = (*executors).max(1);
    let port = *port;
    let codec_arguments: &[&str] = match executor.codec {
        NodeCodec::Viewdag => &[],
        NodeCodec::Ballista => &["--ballista-codec"],
    };
    let mut ports = PortPicker::for_this_process();
    let scheduler_port = match port {
        Some(port) => port,
        None => ports.pick()?,
    };
    let scheduler = spawn(executable, &[&["scheduler", "--port", &scheduler_port.to_string()], codec_arguments].concat())?;
    nodes.push(Node { name: "scheduler".to_string(), child: scheduler, port: scheduler_port });
    wait_until_serving(nodes.last_mut().expect("just pushed"))?;
    for index in 1..=executors {
        let (flight_port, grpc_port) = (ports.pick()?, ports.pick()?);
        let executor_dir = work_dir.join(format!("executor-{index}"));
        let mut arguments = vec![
            "executor".to_string(),
            "--scheduler-port".to_string(),
            scheduler_port.to_string(),
            "--port".to_string(),
            flight_port.to_string(),
            "--grpc-port".to_string(),
            grpc_port.to_string(),
            "--work-dir".to_string(),
            executor_dir.to_string_lossy().into_owned(),
        ];
        if let Some(slots) = executor.task_slots {
            arguments.extend(["--task-slots".to_string(), slots.to_string()]);
        }
        arguments.extend(codec_arguments.iter().map(|argument| argument.to_string()));
        let arguments: Vec<&str> = arguments.iter().map(String::as_str).collect();
        let child = spawn(executable, &arguments)?;
        nodes.push(Node { name: format!("executor {index}"), child, port: flight_port });
        wait_until_serving(nodes.last_mut().expect("just pushed"))?;
    }
    for node in nodes.iter().skip(1) {
        writeln!(out, "{}: pid {} on {LOOPBACK}:{}", node.name, node.child.id(), node.port).map_err(ClusterError::Print)?;
    }
    writeln!(out, "scheduler: df://{LOOPBACK}:{scheduler_port}").map_err(ClusterError::Print)?;
    out.flush().map_err(ClusterError::Print)
}

fn spawn(executable: &Path, arguments: &[&str]) -> Result<Child, ClusterError> {
    Command::new(executable)
        .arg("cluster-node")
        .args(arguments)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| ClusterError::Spawn { command: format!("{} cluster-node {}", executable.display(), arguments.join(" ")), source })
}

/// Waits until `node` accepts TCP connections on its port (or fails if it exits first).
fn wait_until_serving(node: &mut Node) -> Result<(), ClusterError> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok(Some(status)) = node.child.try_wait() {
            return Err(ClusterError::ExitedWhileStarting { node: node.name.clone(), status });
        }
        if TcpStream::connect((LOOPBACK, node.port)).is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(ClusterError::NotListening { node: node.name.clone(), port: node.port, timeout: START_TIMEOUT });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Serves until Ctrl-C/SIGTERM (Ok) or the scheduler exits (Err).
fn supervise(nodes: &mut [Node]) -> Result<(), ClusterError> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(ClusterError::Runtime)?;
    runtime.block_on(async {
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(ClusterError::Signal)?;
        let mut reported: Vec<bool> = vec![false; nodes.len()];
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return Ok(()),
                _ = terminate.recv() => return Ok(()),
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
            for (index, node) in nodes.iter_mut().enumerate() {
                let Ok(Some(status)) = node.child.try_wait() else { continue };
                if index == 0 {
                    return Err(ClusterError::SchedulerExited(status));
                }
                if !reported[index] {
                    reported[index] = true;
                    eprintln!("{} exited ({status}); the cluster goes on with the others", node.name);
                }
            }
        }
    })
}

/// Stops every child that still runs, executors first, and reaps them.
fn stop(nodes: &mut [Node]) {
    for node in nodes.iter_mut().rev() {
        if let Ok(None) = node.child.try_wait() {
            let _ = node.child.kill();
        }
        let _ = node.child.wait();
    }
}

/// The ports of one cluster's nodes. `bind(0)`-and-release lets two clusters started at
/// once on one machine (parallel tests) be handed the same just-released port, and a node
/// that cannot bind it exits, or worse, the other cluster's node answers on it. So each
/// supervisor takes ports from a block of its own — chosen by its process id, below the
/// kernel's ephemeral range — each checked free when picked, and never picks one twice.
struct PortPicker {
    next: u16,
}

/// Where the blocks start, how many ports each holds, and how many blocks there are:
/// ports 10000–29999, below the range Linux hands out ephemeral ports from (32768 by
/// default); a port found in use is skipped.
const PORT_BLOCKS_START: u16 = 10_000;
const PORTS_PER_BLOCK: u16 = 20;
const PORT_BLOCKS: u32 = 1_000;

impl PortPicker {
    fn for_this_process() -> PortPicker {
        let block = (std::process::id() % PORT_BLOCKS) as u16;
        PortPicker { next: PORT_BLOCKS_START + block * PORTS_PER_BLOCK }
    }

    /// The next port of the block (or after it) that nothing listens on now.
    fn pick(&mut self) -> Result<u16, ClusterError> {
        for _ in 0..200 {
            let port = self.next;
            self.next = self.next.checked_add(1).unwrap_or(PORT_BLOCKS_START);
            if TcpListener::bind((LOOPBACK, port)).is_ok() {
                return Ok(port);
            }
        }
        Err(ClusterError::NoFreePort(self.next))
    }
}
