//! The `viewdag` command line, built inside the tests package so integration tests can run it
//! as a separate process (`CARGO_BIN_EXE_viewdag-cli`).

/// The allocator of this binary (see `mimalloc` in the workspace's Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    viewdag_cli::exit::process_exits_after_command();
    std::process::exit(viewdag_cli::main_with_args(std::env::args_os()));
}
