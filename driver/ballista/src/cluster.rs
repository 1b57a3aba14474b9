//! `viewdag cluster --executors N [--port P]`: a Ballista scheduler and N executors on this
//! machine, each a separate `viewdag cluster-node …` process, for trying the distributed
//! mode without a real cluster.
//!
//! ## Invariants
//! - `scheduler: df://HOST:PORT` is printed (and flushed) only once the scheduler accepts
//!   connections and every executor serves; tools may wait for that line.
//! - Ctrl-C or SIGTERM stops every child before the command returns; so does the scheduler
//!   dying. An executor that dies is reported and the cluster keeps serving with the rest
//!   (the way Ballista handles a lost machine).

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cluster_node::{LOOPBACK, NodeCodec};

/// How long a node may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A started node and what it serves on.
struct Node {
    name: String,
    child: Child,
    port: u16,
}

/// Starts the cluster, prints its address to `out`, and serves until a signal arrives. Every
/// node decodes plans with `codec`.
pub fn run_cluster(executors: usize, port: Option<u16>, codec: NodeCodec, out: &mut dyn Write) -> Result<(), String> {
    let executable = std::env::current_exe().map_err(|error| format!("cannot find the viewdag executable: {error}"))?;
    let mut nodes: Vec<Node> = Vec::new();
    let started = start_nodes(&executable, executors.max(1), port, codec, &mut nodes, out);
    let outcome = match started {
        Ok(()) => supervise(&mut nodes),
        Err(message) => Err(message),
    };
    stop(&mut nodes);
    outcome
}

fn start_nodes(
    executable: &Path,
    executors: usize,
    port: Option<u16>,
    codec: NodeCodec,
    nodes: &mut Vec<Node>,
    out: &mut dyn Write,
) -> Result<(), String> {
    let codec_arguments: &[&str] = match codec {
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
        let arguments = [
            "executor",
            "--scheduler-port",
            &scheduler_port.to_string(),
            "--port",
            &flight_port.to_string(),
            "--grpc-port",
            &grpc_port.to_string(),
        ];
        let child = spawn(executable, &[&arguments[..], codec_arguments].concat())?;
        nodes.push(Node { name: format!("executor {index}"), child, port: flight_port });
        wait_until_serving(nodes.last_mut().expect("just pushed"))?;
    }
    for node in nodes.iter().skip(1) {
        writeln!(out, "{}: pid {} on {LOOPBACK}:{}", node.name, node.child.id(), node.port).map_err(|error| error.to_string())?;
    }
    writeln!(out, "scheduler: df://{LOOPBACK}:{scheduler_port}").map_err(|error| error.to_string())?;
    out.flush().map_err(|error| error.to_string())
}

fn spawn(executable: &Path, arguments: &[&str]) -> Result<Child, String> {
    Command::new(executable)
        .arg("cluster-node")
        .args(arguments)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|error| format!("cannot start `{} cluster-node {}`: {error}", executable.display(), arguments.join(" ")))
}

/// Waits until `node` accepts TCP connections on its port (or fails if it exits first).
fn wait_until_serving(node: &mut Node) -> Result<(), String> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok(Some(status)) = node.child.try_wait() {
            return Err(format!("the {} exited while starting ({status})", node.name));
        }
        if TcpStream::connect((LOOPBACK, node.port)).is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("the {} did not listen on port {} within {START_TIMEOUT:?}", node.name, node.port));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Serves until Ctrl-C/SIGTERM (Ok) or the scheduler exits (Err).
fn supervise(nodes: &mut [Node]) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|error| error.to_string())?;
    runtime.block_on(async {
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|error| format!("cannot listen for SIGTERM: {error}"))?;
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
                    return Err(format!("the scheduler exited ({status}); the cluster stopped"));
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
    fn pick(&mut self) -> Result<u16, String> {
        for _ in 0..200 {
            let port = self.next;
            self.next = self.next.checked_add(1).unwrap_or(PORT_BLOCKS_START);
            if TcpListener::bind((LOOPBACK, port)).is_ok() {
                return Ok(port);
            }
        }
        Err(format!("cannot find a free port near {}", self.next))
    }
}
