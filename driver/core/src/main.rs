//! `viewdag-driver`: run or check a project with the library alone
//! (`cargo run --release -p viewdag-driver -- run SPEC`); see [`viewdag_driver::command_line`].

/// The allocator of this binary (see `mimalloc` in the workspace's Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(viewdag_driver::command_line::main_with_args(std::env::args_os()));
}
