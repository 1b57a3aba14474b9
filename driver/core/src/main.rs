//! `viewdag-driver`: run or check a project with the library alone
//! (`cargo run --release -p viewdag-driver -- run SPEC`); see [`viewdag_driver::command_line`].

fn main() {
    std::process::exit(viewdag_driver::command_line::main_with_args(std::env::args_os()));
}
