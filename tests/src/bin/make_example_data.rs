//! Writes the shop example's source data: `make-example-data [DIR]` (default
//! `examples/shop/data`). The data is committed; run this only to regenerate it.
//!
//! `make-example-data --tpch DIR` writes the small TPC-H data set (`viewdag_tests::tpch`)
//! under `DIR/data/` and its 22-query spec as `DIR/spec.yaml` (for the engine benchmark in
//! BENCHMARKS.md).

/// The allocator of this binary (see `mimalloc` in the workspace's Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, directory] = arguments.as_slice()
        && flag == "--tpch"
    {
        let path = std::path::Path::new(directory);
        viewdag_tests::tpch::write_tpch_data(path);
        std::fs::write(path.join("spec.yaml"), viewdag_tests::tpch::spec_yaml()).expect("the spec is written");
        println!("wrote the TPC-H data and spec to {}", path.display());
        return;
    }
    let directory = arguments.first().cloned().unwrap_or_else(|| "examples/shop/data".to_string());
    let path = std::path::Path::new(&directory);
    viewdag_tests::shop::write_shop_data(path);
    println!("wrote the shop example's data to {}", path.display());
}
