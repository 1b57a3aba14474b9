//! Writes the shop example's source data: `make-example-data [DIR]` (default
//! `examples/shop/data`). The data is committed; run this only to regenerate it.

fn main() {
    let directory = std::env::args().nth(1).unwrap_or_else(|| "examples/shop/data".to_string());
    let path = std::path::Path::new(&directory);
    viewdag_tests::shop::write_shop_data(path);
    println!("wrote the shop example's data to {}", path.display());
}
