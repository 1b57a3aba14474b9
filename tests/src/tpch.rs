//! TPC-H as a viewdag workload: the 8 tables' schemas, a tiny deterministic data set written
//! as Parquet files, the 22 queries (standard text with the validation parameters, in
//! DataFusion's dialect) and a viewdag spec with one `sql` view and one output per query.
//!
//! The data is small (5 to ~500 rows per table): it exists so that the queries plan over
//! real Parquet files and a few of them return rows worth comparing, not to measure
//! execution. Keys are `int64`, money and quantities `decimal(15,2)` (the TPC-H types, with
//! which DataFusion plans all 22 queries), dates `date32`, other integers `int32`, text `utf8`.
//!
//! Q15's `revenue0` view is its own viewdag view (`revenue0`), which `q15` reads.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Date32Array, Decimal128Array, Int32Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::data::write_parquet_file;
use crate::generate::Random;

/// The eight tables, in the order they are declared as sources.
pub const TABLES: [&str; 8] = ["region", "nation", "supplier", "part", "partsupp", "customer", "orders", "lineitem"];

/// Q15's view, declared as its own viewdag view and read by `q15`.
pub const REVENUE0_NAME: &str = "revenue0";

/// Q15's `revenue0` view (standard `create view revenue0 (supplier_no, total_revenue)`; the
/// column list becomes aliases).
pub const REVENUE0: &str = "select
    l_suppkey as supplier_no,
    sum(l_extendedprice * (1 - l_discount)) as total_revenue
from
    lineitem
where
    l_shipdate >= date '1996-01-01'
    and l_shipdate < date '1996-01-01' + interval '3' month
group by
    l_suppkey";

fn money() -> DataType {
    DataType::Decimal128(15, 2)
}

fn schema(columns: &[(&str, DataType)]) -> SchemaRef {
    Arc::new(Schema::new(columns.iter().map(|(name, data_type)| Field::new(*name, data_type.clone(), false)).collect::<Vec<_>>()))
}

/// The schema of one TPC-H table (`None` for another name).
pub fn table_schema(table: &str) -> Option<SchemaRef> {
    use DataType::{Date32, Int32, Int64, Utf8};
    let columns: Vec<(&str, DataType)> = match table {
        "region" => vec![("r_regionkey", Int64), ("r_name", Utf8), ("r_comment", Utf8)],
        "nation" => vec![("n_nationkey", Int64), ("n_name", Utf8), ("n_regionkey", Int64), ("n_comment", Utf8)],
        "supplier" => vec![
            ("s_suppkey", Int64),
            ("s_name", Utf8),
            ("s_address", Utf8),
            ("s_nationkey", Int64),
            ("s_phone", Utf8),
            ("s_acctbal", money()),
            ("s_comment", Utf8),
        ],
        "part" => vec![
            ("p_partkey", Int64),
            ("p_name", Utf8),
            ("p_mfgr", Utf8),
            ("p_brand", Utf8),
            ("p_type", Utf8),
            ("p_size", Int32),
            ("p_container", Utf8),
            ("p_retailprice", money()),
            ("p_comment", Utf8),
        ],
        "partsupp" => {
            vec![("ps_partkey", Int64), ("ps_suppkey", Int64), ("ps_availqty", Int32), ("ps_supplycost", money()), ("ps_comment", Utf8)]
        }
        "customer" => vec![
            ("c_custkey", Int64),
            ("c_name", Utf8),
            ("c_address", Utf8),
            ("c_nationkey", Int64),
            ("c_phone", Utf8),
            ("c_acctbal", money()),
            ("c_mktsegment", Utf8),
            ("c_comment", Utf8),
        ],
        "orders" => vec![
            ("o_orderkey", Int64),
            ("o_custkey", Int64),
            ("o_orderstatus", Utf8),
            ("o_totalprice", money()),
            ("o_orderdate", Date32),
            ("o_orderpriority", Utf8),
            ("o_clerk", Utf8),
            ("o_shippriority", Int32),
            ("o_comment", Utf8),
        ],
        "lineitem" => vec![
            ("l_orderkey", Int64),
            ("l_partkey", Int64),
            ("l_suppkey", Int64),
            ("l_linenumber", Int32),
            ("l_quantity", money()),
            ("l_extendedprice", money()),
            ("l_discount", money()),
            ("l_tax", money()),
            ("l_returnflag", Utf8),
            ("l_linestatus", Utf8),
            ("l_shipdate", Date32),
            ("l_commitdate", Date32),
            ("l_receiptdate", Date32),
            ("l_shipinstruct", Utf8),
            ("l_shipmode", Utf8),
            ("l_comment", Utf8),
        ],
        _ => return None,
    };
    Some(schema(&columns))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub fn date32(year: i32, month: u32, day: u32) -> i32 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = (if year >= 0 { year } else { year - 399 }) / 400;
    let year_of_era = year - era * 400;
    let month = month as i32;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day as i32 - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

const REGIONS: [&str; 5] = ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"];
/// The 25 TPC-H nations and their regions.
const NATIONS: [(&str, i64); 25] = [
    ("ALGERIA", 0),
    ("ARGENTINA", 1),
    ("BRAZIL", 1),
    ("CANADA", 1),
    ("EGYPT", 4),
    ("ETHIOPIA", 0),
    ("FRANCE", 3),
    ("GERMANY", 3),
    ("INDIA", 2),
    ("INDONESIA", 2),
    ("IRAN", 4),
    ("IRAQ", 4),
    ("JAPAN", 2),
    ("JORDAN", 4),
    ("KENYA", 0),
    ("MOROCCO", 0),
    ("MOZAMBIQUE", 0),
    ("PERU", 1),
    ("CHINA", 2),
    ("ROMANIA", 3),
    ("SAUDI ARABIA", 4),
    ("VIETNAM", 2),
    ("RUSSIA", 3),
    ("UNITED KINGDOM", 3),
    ("UNITED STATES", 1),
];
const SEGMENTS: [&str; 5] = ["AUTOMOBILE", "BUILDING", "FURNITURE", "MACHINERY", "HOUSEHOLD"];
const PRIORITIES: [&str; 5] = ["1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"];
const TYPE_1: [&str; 6] = ["STANDARD", "SMALL", "MEDIUM", "LARGE", "ECONOMY", "PROMO"];
const TYPE_2: [&str; 5] = ["ANODIZED", "BURNISHED", "PLATED", "POLISHED", "BRUSHED"];
const TYPE_3: [&str; 5] = ["TIN", "NICKEL", "BRASS", "STEEL", "COPPER"];
const CONTAINER_1: [&str; 5] = ["SM", "LG", "MED", "JUMBO", "WRAP"];
const CONTAINER_2: [&str; 8] = ["CASE", "BOX", "BAG", "JAR", "PKG", "PACK", "CAN", "DRUM"];
const COLORS: [&str; 12] = ["forest", "green", "almond", "blue", "chocolate", "navy", "red", "ivory", "lime", "tan", "white", "khaki"];
const SHIP_MODES: [&str; 7] = ["REG AIR", "AIR", "RAIL", "SHIP", "TRUCK", "MAIL", "FOB"];
const INSTRUCTIONS: [&str; 4] = ["DELIVER IN PERSON", "COLLECT COD", "NONE", "TAKE BACK RETURN"];
const WORDS: [&str; 10] = ["furiously", "quickly", "carefully", "blithely", "slyly", "final", "regular", "express", "pending", "ironic"];

pub const SUPPLIERS: i64 = 10;
pub const PARTS: i64 = 20;
pub const CUSTOMERS: i64 = 30;
pub const ORDERS: i64 = 120;

/// A short comment: two or three words, sometimes with the phrases the queries look for.
fn comment(random: &mut Random, special: &str, percent: u64) -> String {
    let mut words = vec![*random.pick(&WORDS), *random.pick(&WORDS)];
    if random.chance(percent) {
        words.push(special);
    }
    words.push(*random.pick(&WORDS));
    words.join(" ")
}

fn phone(nation: i64, key: i64) -> String {
    format!("{}-{:03}-{:03}-{:04}", nation + 10, (key * 37) % 1000, (key * 91) % 1000, (key * 7919) % 10000)
}

fn money_array(cents: Vec<i128>) -> ArrayRef {
    Arc::new(Decimal128Array::from(cents).with_precision_and_scale(15, 2).expect("a valid decimal(15,2)"))
}

fn strings(values: Vec<String>) -> ArrayRef {
    Arc::new(StringArray::from(values))
}

fn batch(table: &str, columns: Vec<ArrayRef>) -> RecordBatch {
    RecordBatch::try_new(table_schema(table).expect("a TPC-H table"), columns).expect("a valid batch")
}

/// The suppliers of a part (four, distinct), by the TPC-H formula.
pub fn part_suppliers(part: i64) -> [i64; 4] {
    let step = SUPPLIERS / 4 + (part - 1) / SUPPLIERS;
    [0, 1, 2, 3].map(|index| (part + index * step) % SUPPLIERS + 1)
}

fn retail_cents(part: i64) -> i128 {
    (90_000 + (part / 10) % 20_001 + 100 * (part % 1_000)) as i128
}

/// Every table's rows, in `TABLES` order. The same rows on every call and every machine.
pub fn tables() -> Vec<(&'static str, RecordBatch)> {
    let mut random = Random::new(0x7e_c4);
    let region_keys: Vec<i64> = (0..5).collect();
    let region = batch(
        "region",
        vec![
            Arc::new(Int64Array::from(region_keys.clone())),
            strings(REGIONS.iter().map(|name| name.to_string()).collect()),
            strings(region_keys.iter().map(|_| comment(&mut random, "requests", 20)).collect()),
        ],
    );
    let nation = batch(
        "nation",
        vec![
            Arc::new(Int64Array::from((0..25).collect::<Vec<i64>>())),
            strings(NATIONS.iter().map(|(name, _)| name.to_string()).collect()),
            Arc::new(Int64Array::from(NATIONS.iter().map(|(_, region)| *region).collect::<Vec<i64>>())),
            strings(NATIONS.iter().map(|_| comment(&mut random, "deposits", 20)).collect()),
        ],
    );

    // Suppliers: nations chosen so the queries' nations (GERMANY, FRANCE, CANADA, SAUDI
    // ARABIA, BRAZIL) and regions (EUROPE, ASIA, AMERICA) have some.
    let supplier_nations: [i64; SUPPLIERS as usize] = [7, 6, 3, 20, 2, 8, 12, 7, 19, 24];
    let supplier_keys: Vec<i64> = (1..=SUPPLIERS).collect();
    let supplier = batch(
        "supplier",
        vec![
            Arc::new(Int64Array::from(supplier_keys.clone())),
            strings(supplier_keys.iter().map(|key| format!("Supplier#{key:09}")).collect()),
            strings(supplier_keys.iter().map(|key| format!("{key} Supply Road")).collect()),
            Arc::new(Int64Array::from(supplier_nations.to_vec())),
            strings(supplier_keys.iter().map(|key| phone(supplier_nations[*key as usize - 1], *key)).collect()),
            money_array(supplier_keys.iter().map(|_| random.below(1_100_000) as i128 - 100_000).collect()),
            strings(supplier_keys.iter().map(|_| comment(&mut random, "Customer Complaints", 20)).collect()),
        ],
    );

    let part_keys: Vec<i64> = (1..=PARTS).collect();
    let part_types: Vec<String> = part_keys
        .iter()
        .map(|key| match key {
            // The types Q2, Q8 and Q14 look for.
            3 => "ECONOMY ANODIZED STEEL".to_string(),
            5 => "LARGE PLATED BRASS".to_string(),
            _ => format!("{} {} {}", random.pick(&TYPE_1), random.pick(&TYPE_2), random.pick(&TYPE_3)),
        })
        .collect();
    let part_sizes: Vec<i32> = part_keys.iter().map(|key| if *key == 5 { 15 } else { 1 + random.below(50) as i32 }).collect();
    let brands: Vec<String> = part_keys
        .iter()
        .map(|key| if *key == 7 { "Brand#23".to_string() } else { format!("Brand#{}{}", 1 + key % 5, 1 + key % 4) })
        .collect();
    let containers: Vec<String> = part_keys
        .iter()
        .map(|key| if *key == 7 { "MED BOX".to_string() } else { format!("{} {}", random.pick(&CONTAINER_1), random.pick(&CONTAINER_2)) })
        .collect();
    let part = batch(
        "part",
        vec![
            Arc::new(Int64Array::from(part_keys.clone())),
            strings(
                part_keys.iter().map(|_| format!("{} {} {}", random.pick(&COLORS), random.pick(&COLORS), random.pick(&COLORS))).collect(),
            ),
            strings(part_keys.iter().map(|key| format!("Manufacturer#{}", 1 + key % 5)).collect()),
            strings(brands),
            strings(part_types),
            Arc::new(Int32Array::from(part_sizes)),
            strings(containers),
            money_array(part_keys.iter().map(|key| retail_cents(*key)).collect()),
            strings(part_keys.iter().map(|_| comment(&mut random, "deposits", 10)).collect()),
        ],
    );

    let pairs: Vec<(i64, i64)> = part_keys.iter().flat_map(|part| part_suppliers(*part).map(|supplier| (*part, supplier))).collect();
    let partsupp = batch(
        "partsupp",
        vec![
            Arc::new(Int64Array::from(pairs.iter().map(|(part, _)| *part).collect::<Vec<i64>>())),
            Arc::new(Int64Array::from(pairs.iter().map(|(_, supplier)| *supplier).collect::<Vec<i64>>())),
            Arc::new(Int32Array::from(pairs.iter().map(|_| 1 + random.below(9_999) as i32).collect::<Vec<i32>>())),
            money_array(pairs.iter().map(|_| 100 + random.below(99_901) as i128).collect()),
            strings(pairs.iter().map(|_| comment(&mut random, "requests", 10)).collect()),
        ],
    );

    let customer_keys: Vec<i64> = (1..=CUSTOMERS).collect();
    let customer_nations: Vec<i64> = customer_keys.iter().map(|key| (key * 7) % 25).collect();
    let customer = batch(
        "customer",
        vec![
            Arc::new(Int64Array::from(customer_keys.clone())),
            strings(customer_keys.iter().map(|key| format!("Customer#{key:09}")).collect()),
            strings(customer_keys.iter().map(|key| format!("{key} Market Street")).collect()),
            Arc::new(Int64Array::from(customer_nations.clone())),
            strings(customer_keys.iter().map(|key| phone(customer_nations[*key as usize - 1], *key)).collect()),
            money_array(customer_keys.iter().map(|_| random.below(1_100_000) as i128 - 100_000).collect()),
            strings(customer_keys.iter().map(|key| SEGMENTS[*key as usize % 5].to_string()).collect()),
            strings(customer_keys.iter().map(|_| comment(&mut random, "requests", 20)).collect()),
        ],
    );

    // Orders: from 1992-01-01 over ~6.5 years; every third customer has none (Q13, Q22).
    let first_day = date32(1992, 1, 1);
    let last_day = date32(1998, 8, 2);
    let current = date32(1995, 6, 17);
    let ordering: Vec<i64> = customer_keys.iter().copied().filter(|key| key % 3 != 0).collect();
    let mut orders_rows = Vec::new();
    let mut lineitem_rows = Vec::new();
    for order in 1..=ORDERS {
        let orderkey = order * 4 - 3 + (order % 4);
        let custkey = *random.pick(&ordering);
        let orderdate = first_day + ((order * (last_day - first_day - 151) as i64 / ORDERS) as i32 + random.below(30) as i32);
        let lines = 1 + random.below(7) as i32;
        let mut total: i128 = 0;
        let mut statuses = Vec::new();
        for linenumber in 1..=lines {
            let partkey = 1 + random.below(PARTS as usize) as i64;
            let suppkey = part_suppliers(partkey)[random.below(4)];
            let quantity = 1 + random.below(50) as i128;
            let extended = quantity * retail_cents(partkey);
            let discount = random.below(11) as i128;
            let tax = random.below(9) as i128;
            let shipdate = orderdate + 1 + random.below(121) as i32;
            let commitdate = orderdate + 30 + random.below(61) as i32;
            let receiptdate = shipdate + 1 + random.below(30) as i32;
            let returnflag = if receiptdate <= current { if random.chance(50) { "R" } else { "A" } } else { "N" };
            let linestatus = if shipdate > current { "O" } else { "F" };
            statuses.push(linestatus);
            total += extended * (100 + tax) * (100 - discount) / 10_000;
            lineitem_rows.push(LineItem {
                orderkey,
                partkey,
                suppkey,
                linenumber,
                quantity: quantity * 100,
                extended,
                discount,
                tax,
                returnflag,
                linestatus,
                shipdate,
                commitdate,
                receiptdate,
                instruction: INSTRUCTIONS[random.below(INSTRUCTIONS.len())],
                mode: SHIP_MODES[random.below(SHIP_MODES.len())],
                comment: comment(&mut random, "slyly", 10),
            });
        }
        let status = if statuses.iter().all(|status| *status == "F") {
            "F"
        } else if statuses.iter().all(|status| *status == "O") {
            "O"
        } else {
            "P"
        };
        orders_rows.push(Order {
            orderkey,
            custkey,
            status,
            total,
            orderdate,
            priority: PRIORITIES[random.below(PRIORITIES.len())],
            clerk: format!("Clerk#{:09}", 1 + random.below(100)),
            comment: comment(&mut random, "special requests", 15),
        });
    }
    let orders = batch(
        "orders",
        vec![
            Arc::new(Int64Array::from(orders_rows.iter().map(|row| row.orderkey).collect::<Vec<i64>>())),
            Arc::new(Int64Array::from(orders_rows.iter().map(|row| row.custkey).collect::<Vec<i64>>())),
            strings(orders_rows.iter().map(|row| row.status.to_string()).collect()),
            money_array(orders_rows.iter().map(|row| row.total).collect()),
            Arc::new(Date32Array::from(orders_rows.iter().map(|row| row.orderdate).collect::<Vec<i32>>())),
            strings(orders_rows.iter().map(|row| row.priority.to_string()).collect()),
            strings(orders_rows.iter().map(|row| row.clerk.clone()).collect()),
            Arc::new(Int32Array::from(vec![0; orders_rows.len()])),
            strings(orders_rows.iter().map(|row| row.comment.clone()).collect()),
        ],
    );
    let rows = &lineitem_rows;
    let lineitem = batch(
        "lineitem",
        vec![
            Arc::new(Int64Array::from(rows.iter().map(|row| row.orderkey).collect::<Vec<i64>>())),
            Arc::new(Int64Array::from(rows.iter().map(|row| row.partkey).collect::<Vec<i64>>())),
            Arc::new(Int64Array::from(rows.iter().map(|row| row.suppkey).collect::<Vec<i64>>())),
            Arc::new(Int32Array::from(rows.iter().map(|row| row.linenumber).collect::<Vec<i32>>())),
            money_array(rows.iter().map(|row| row.quantity).collect()),
            money_array(rows.iter().map(|row| row.extended).collect()),
            money_array(rows.iter().map(|row| row.discount).collect()),
            money_array(rows.iter().map(|row| row.tax).collect()),
            strings(rows.iter().map(|row| row.returnflag.to_string()).collect()),
            strings(rows.iter().map(|row| row.linestatus.to_string()).collect()),
            Arc::new(Date32Array::from(rows.iter().map(|row| row.shipdate).collect::<Vec<i32>>())),
            Arc::new(Date32Array::from(rows.iter().map(|row| row.commitdate).collect::<Vec<i32>>())),
            Arc::new(Date32Array::from(rows.iter().map(|row| row.receiptdate).collect::<Vec<i32>>())),
            strings(rows.iter().map(|row| row.instruction.to_string()).collect()),
            strings(rows.iter().map(|row| row.mode.to_string()).collect()),
            strings(rows.iter().map(|row| row.comment.clone()).collect()),
        ],
    );
    vec![
        ("region", region),
        ("nation", nation),
        ("supplier", supplier),
        ("part", part),
        ("partsupp", partsupp),
        ("customer", customer),
        ("orders", orders),
        ("lineitem", lineitem),
    ]
}

struct Order {
    orderkey: i64,
    custkey: i64,
    status: &'static str,
    total: i128,
    orderdate: i32,
    priority: &'static str,
    clerk: String,
    comment: String,
}

struct LineItem {
    orderkey: i64,
    partkey: i64,
    suppkey: i64,
    linenumber: i32,
    quantity: i128,
    extended: i128,
    discount: i128,
    tax: i128,
    returnflag: &'static str,
    linestatus: &'static str,
    shipdate: i32,
    commitdate: i32,
    receiptdate: i32,
    instruction: &'static str,
    mode: &'static str,
    comment: String,
}

/// The Parquet file of `table` under `root` (`data/<table>.parquet`).
pub fn table_path(root: &Path, table: &str) -> std::path::PathBuf {
    root.join("data").join(format!("{table}.parquet"))
}

/// Writes the 8 tables as Parquet files under `root/data/`.
pub fn write_tpch_data(root: &Path) {
    for (table, rows) in tables() {
        write_parquet_file(&table_path(root, table), &rows);
    }
}

/// The viewdag view (and output) name of query `number` (1..=22): `q01` … `q22`.
pub fn query_name(number: usize) -> String {
    format!("q{number:02}")
}

/// The spec: the 8 tables as Parquet sources, `revenue0` and `q01` … `q22` as `sql` views,
/// and one overwrite output per query (`out/qNN`), so every query is a task.
pub fn spec_yaml() -> String {
    spec_yaml_with_delta_tables(&[])
}

/// `spec_yaml`, with the tables named in `delta` read as Delta tables at `data/<table>`
/// instead of Parquet files (as `tpch_data::write_tables` writes them).
pub fn spec_yaml_with_delta_tables(delta: &[&str]) -> String {
    let mut text = String::from("version: 1\nsources:\n");
    for table in TABLES {
        if delta.contains(&table) {
            text.push_str(&format!("  {table}: {{ format: delta, path: data/{table} }}\n"));
        } else {
            text.push_str(&format!("  {table}: {{ format: parquet, path: data/{table}.parquet }}\n"));
        }
    }
    text.push_str("views:\n");
    let block = |name: &str, sql: &str| {
        let mut entry = format!("  {name}:\n    sql: |\n");
        for line in sql.lines() {
            if line.trim().is_empty() {
                entry.push('\n');
            } else {
                entry.push_str(&format!("      {line}\n"));
            }
        }
        entry
    };
    text.push_str(&block(REVENUE0_NAME, REVENUE0));
    for (index, sql) in QUERIES.iter().enumerate() {
        text.push_str(&block(&query_name(index + 1), sql));
    }
    text.push_str("outputs:\n");
    for number in 1..=QUERIES.len() {
        let name = query_name(number);
        text.push_str(&format!("  {name}:\n    view: {name}\n    path: out/{name}\n    mode: overwrite\n"));
    }
    text
}

/// The 22 TPC-H queries (index 0 is Q1). Q15 reads the `revenue0` relation.
pub const QUERIES: [&str; 22] = [
    // Q1
    "select
    l_returnflag,
    l_linestatus,
    sum(l_quantity) as sum_qty,
    sum(l_extendedprice) as sum_base_price,
    sum(l_extendedprice * (1 - l_discount)) as sum_disc_price,
    sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) as sum_charge,
    avg(l_quantity) as avg_qty,
    avg(l_extendedprice) as avg_price,
    avg(l_discount) as avg_disc,
    count(*) as count_order
from
    lineitem
where
    l_shipdate <= date '1998-12-01' - interval '90' day
group by
    l_returnflag,
    l_linestatus
order by
    l_returnflag,
    l_linestatus",
    // Q2
    "select
    s_acctbal,
    s_name,
    n_name,
    p_partkey,
    p_mfgr,
    s_address,
    s_phone,
    s_comment
from
    part,
    supplier,
    partsupp,
    nation,
    region
where
    p_partkey = ps_partkey
    and s_suppkey = ps_suppkey
    and p_size = 15
    and p_type like '%BRASS'
    and s_nationkey = n_nationkey
    and n_regionkey = r_regionkey
    and r_name = 'EUROPE'
    and ps_supplycost = (
        select
            min(ps_supplycost)
        from
            partsupp,
            supplier,
            nation,
            region
        where
            p_partkey = ps_partkey
            and s_suppkey = ps_suppkey
            and s_nationkey = n_nationkey
            and n_regionkey = r_regionkey
            and r_name = 'EUROPE'
    )
order by
    s_acctbal desc,
    n_name,
    s_name,
    p_partkey
limit 100",
    // Q3
    "select
    l_orderkey,
    sum(l_extendedprice * (1 - l_discount)) as revenue,
    o_orderdate,
    o_shippriority
from
    customer,
    orders,
    lineitem
where
    c_mktsegment = 'BUILDING'
    and c_custkey = o_custkey
    and l_orderkey = o_orderkey
    and o_orderdate < date '1995-03-15'
    and l_shipdate > date '1995-03-15'
group by
    l_orderkey,
    o_orderdate,
    o_shippriority
order by
    revenue desc,
    o_orderdate
limit 10",
    // Q4
    "select
    o_orderpriority,
    count(*) as order_count
from
    orders
where
    o_orderdate >= date '1993-07-01'
    and o_orderdate < date '1993-07-01' + interval '3' month
    and exists (
        select
            *
        from
            lineitem
        where
            l_orderkey = o_orderkey
            and l_commitdate < l_receiptdate
    )
group by
    o_orderpriority
order by
    o_orderpriority",
    // Q5
    "select
    n_name,
    sum(l_extendedprice * (1 - l_discount)) as revenue
from
    customer,
    orders,
    lineitem,
    supplier,
    nation,
    region
where
    c_custkey = o_custkey
    and l_orderkey = o_orderkey
    and l_suppkey = s_suppkey
    and c_nationkey = s_nationkey
    and s_nationkey = n_nationkey
    and n_regionkey = r_regionkey
    and r_name = 'ASIA'
    and o_orderdate >= date '1994-01-01'
    and o_orderdate < date '1994-01-01' + interval '1' year
group by
    n_name
order by
    revenue desc",
    // Q6
    "select
    sum(l_extendedprice * l_discount) as revenue
from
    lineitem
where
    l_shipdate >= date '1994-01-01'
    and l_shipdate < date '1994-01-01' + interval '1' year
    and l_discount between 0.06 - 0.01 and 0.06 + 0.01
    and l_quantity < 24",
    // Q7
    "select
    supp_nation,
    cust_nation,
    l_year,
    sum(volume) as revenue
from
    (
        select
            n1.n_name as supp_nation,
            n2.n_name as cust_nation,
            extract(year from l_shipdate) as l_year,
            l_extendedprice * (1 - l_discount) as volume
        from
            supplier,
            lineitem,
            orders,
            customer,
            nation n1,
            nation n2
        where
            s_suppkey = l_suppkey
            and o_orderkey = l_orderkey
            and c_custkey = o_custkey
            and s_nationkey = n1.n_nationkey
            and c_nationkey = n2.n_nationkey
            and (
                (n1.n_name = 'FRANCE' and n2.n_name = 'GERMANY')
                or (n1.n_name = 'GERMANY' and n2.n_name = 'FRANCE')
            )
            and l_shipdate between date '1995-01-01' and date '1996-12-31'
    ) as shipping
group by
    supp_nation,
    cust_nation,
    l_year
order by
    supp_nation,
    cust_nation,
    l_year",
    // Q8
    "select
    o_year,
    sum(case
        when nation = 'BRAZIL' then volume
        else 0
    end) / sum(volume) as mkt_share
from
    (
        select
            extract(year from o_orderdate) as o_year,
            l_extendedprice * (1 - l_discount) as volume,
            n2.n_name as nation
        from
            part,
            supplier,
            lineitem,
            orders,
            customer,
            nation n1,
            nation n2,
            region
        where
            p_partkey = l_partkey
            and s_suppkey = l_suppkey
            and l_orderkey = o_orderkey
            and o_custkey = c_custkey
            and c_nationkey = n1.n_nationkey
            and n1.n_regionkey = r_regionkey
            and r_name = 'AMERICA'
            and s_nationkey = n2.n_nationkey
            and o_orderdate between date '1995-01-01' and date '1996-12-31'
            and p_type = 'ECONOMY ANODIZED STEEL'
    ) as all_nations
group by
    o_year
order by
    o_year",
    // Q9
    "select
    nation,
    o_year,
    sum(amount) as sum_profit
from
    (
        select
            n_name as nation,
            extract(year from o_orderdate) as o_year,
            l_extendedprice * (1 - l_discount) - ps_supplycost * l_quantity as amount
        from
            part,
            supplier,
            lineitem,
            partsupp,
            orders,
            nation
        where
            s_suppkey = l_suppkey
            and ps_suppkey = l_suppkey
            and ps_partkey = l_partkey
            and p_partkey = l_partkey
            and o_orderkey = l_orderkey
            and s_nationkey = n_nationkey
            and p_name like '%green%'
    ) as profit
group by
    nation,
    o_year
order by
    nation,
    o_year desc",
    // Q10
    "select
    c_custkey,
    c_name,
    sum(l_extendedprice * (1 - l_discount)) as revenue,
    c_acctbal,
    n_name,
    c_address,
    c_phone,
    c_comment
from
    customer,
    orders,
    lineitem,
    nation
where
    c_custkey = o_custkey
    and l_orderkey = o_orderkey
    and o_orderdate >= date '1993-10-01'
    and o_orderdate < date '1993-10-01' + interval '3' month
    and l_returnflag = 'R'
    and c_nationkey = n_nationkey
group by
    c_custkey,
    c_name,
    c_acctbal,
    c_phone,
    n_name,
    c_address,
    c_comment
order by
    revenue desc
limit 20",
    // Q11
    "select
    ps_partkey,
    sum(ps_supplycost * ps_availqty) as value
from
    partsupp,
    supplier,
    nation
where
    ps_suppkey = s_suppkey
    and s_nationkey = n_nationkey
    and n_name = 'GERMANY'
group by
    ps_partkey having
        sum(ps_supplycost * ps_availqty) > (
            select
                sum(ps_supplycost * ps_availqty) * 0.0001
            from
                partsupp,
                supplier,
                nation
            where
                ps_suppkey = s_suppkey
                and s_nationkey = n_nationkey
                and n_name = 'GERMANY'
        )
order by
    value desc",
    // Q12
    "select
    l_shipmode,
    sum(case
        when o_orderpriority = '1-URGENT'
            or o_orderpriority = '2-HIGH'
            then 1
        else 0
    end) as high_line_count,
    sum(case
        when o_orderpriority <> '1-URGENT'
            and o_orderpriority <> '2-HIGH'
            then 1
        else 0
    end) as low_line_count
from
    orders,
    lineitem
where
    o_orderkey = l_orderkey
    and l_shipmode in ('MAIL', 'SHIP')
    and l_commitdate < l_receiptdate
    and l_shipdate < l_commitdate
    and l_receiptdate >= date '1994-01-01'
    and l_receiptdate < date '1994-01-01' + interval '1' year
group by
    l_shipmode
order by
    l_shipmode",
    // Q13
    "select
    c_count,
    count(*) as custdist
from
    (
        select
            c_custkey,
            count(o_orderkey)
        from
            customer left outer join orders on
                c_custkey = o_custkey
                and o_comment not like '%special%requests%'
        group by
            c_custkey
    ) as c_orders (c_custkey, c_count)
group by
    c_count
order by
    custdist desc,
    c_count desc",
    // Q14
    "select
    100.00 * sum(case
        when p_type like 'PROMO%'
            then l_extendedprice * (1 - l_discount)
        else 0
    end) / sum(l_extendedprice * (1 - l_discount)) as promo_revenue
from
    lineitem,
    part
where
    l_partkey = p_partkey
    and l_shipdate >= date '1995-09-01'
    and l_shipdate < date '1995-09-01' + interval '1' month",
    // Q15 (reads the `revenue0` view)
    "select
    s_suppkey,
    s_name,
    s_address,
    s_phone,
    total_revenue
from
    supplier,
    revenue0
where
    s_suppkey = supplier_no
    and total_revenue = (
        select
            max(total_revenue)
        from
            revenue0
    )
order by
    s_suppkey",
    // Q16
    "select
    p_brand,
    p_type,
    p_size,
    count(distinct ps_suppkey) as supplier_cnt
from
    partsupp,
    part
where
    p_partkey = ps_partkey
    and p_brand <> 'Brand#45'
    and p_type not like 'MEDIUM POLISHED%'
    and p_size in (49, 14, 23, 45, 19, 3, 36, 9)
    and ps_suppkey not in (
        select
            s_suppkey
        from
            supplier
        where
            s_comment like '%Customer%Complaints%'
    )
group by
    p_brand,
    p_type,
    p_size
order by
    supplier_cnt desc,
    p_brand,
    p_type,
    p_size",
    // Q17
    "select
    sum(l_extendedprice) / 7.0 as avg_yearly
from
    lineitem,
    part
where
    p_partkey = l_partkey
    and p_brand = 'Brand#23'
    and p_container = 'MED BOX'
    and l_quantity < (
        select
            0.2 * avg(l_quantity)
        from
            lineitem
        where
            l_partkey = p_partkey
    )",
    // Q18
    "select
    c_name,
    c_custkey,
    o_orderkey,
    o_orderdate,
    o_totalprice,
    sum(l_quantity)
from
    customer,
    orders,
    lineitem
where
    o_orderkey in (
        select
            l_orderkey
        from
            lineitem
        group by
            l_orderkey having
                sum(l_quantity) > 300
    )
    and c_custkey = o_custkey
    and o_orderkey = l_orderkey
group by
    c_name,
    c_custkey,
    o_orderkey,
    o_orderdate,
    o_totalprice
order by
    o_totalprice desc,
    o_orderdate
limit 100",
    // Q19
    "select
    sum(l_extendedprice* (1 - l_discount)) as revenue
from
    lineitem,
    part
where
    (
        p_partkey = l_partkey
        and p_brand = 'Brand#12'
        and p_container in ('SM CASE', 'SM BOX', 'SM PACK', 'SM PKG')
        and l_quantity >= 1 and l_quantity <= 1 + 10
        and p_size between 1 and 5
        and l_shipmode in ('AIR', 'AIR REG')
        and l_shipinstruct = 'DELIVER IN PERSON'
    )
    or
    (
        p_partkey = l_partkey
        and p_brand = 'Brand#23'
        and p_container in ('MED BAG', 'MED BOX', 'MED PKG', 'MED PACK')
        and l_quantity >= 10 and l_quantity <= 10 + 10
        and p_size between 1 and 10
        and l_shipmode in ('AIR', 'AIR REG')
        and l_shipinstruct = 'DELIVER IN PERSON'
    )
    or
    (
        p_partkey = l_partkey
        and p_brand = 'Brand#34'
        and p_container in ('LG CASE', 'LG BOX', 'LG PACK', 'LG PKG')
        and l_quantity >= 20 and l_quantity <= 20 + 10
        and p_size between 1 and 15
        and l_shipmode in ('AIR', 'AIR REG')
        and l_shipinstruct = 'DELIVER IN PERSON'
    )",
    // Q20
    "select
    s_name,
    s_address
from
    supplier,
    nation
where
    s_suppkey in (
        select
            ps_suppkey
        from
            partsupp
        where
            ps_partkey in (
                select
                    p_partkey
                from
                    part
                where
                    p_name like 'forest%'
            )
            and ps_availqty > (
                select
                    0.5 * sum(l_quantity)
                from
                    lineitem
                where
                    l_partkey = ps_partkey
                    and l_suppkey = ps_suppkey
                    and l_shipdate >= date '1994-01-01'
                    and l_shipdate < date '1994-01-01' + interval '1' year
            )
    )
    and s_nationkey = n_nationkey
    and n_name = 'CANADA'
order by
    s_name",
    // Q21
    "select
    s_name,
    count(*) as numwait
from
    supplier,
    lineitem l1,
    orders,
    nation
where
    s_suppkey = l1.l_suppkey
    and o_orderkey = l1.l_orderkey
    and o_orderstatus = 'F'
    and l1.l_receiptdate > l1.l_commitdate
    and exists (
        select
            *
        from
            lineitem l2
        where
            l2.l_orderkey = l1.l_orderkey
            and l2.l_suppkey <> l1.l_suppkey
    )
    and not exists (
        select
            *
        from
            lineitem l3
        where
            l3.l_orderkey = l1.l_orderkey
            and l3.l_suppkey <> l1.l_suppkey
            and l3.l_receiptdate > l3.l_commitdate
    )
    and s_nationkey = n_nationkey
    and n_name = 'SAUDI ARABIA'
group by
    s_name
order by
    numwait desc,
    s_name
limit 100",
    // Q22
    "select
    cntrycode,
    count(*) as numcust,
    sum(c_acctbal) as totacctbal
from
    (
        select
            substring(c_phone from 1 for 2) as cntrycode,
            c_acctbal
        from
            customer
        where
            substring(c_phone from 1 for 2) in
                ('13', '31', '23', '29', '30', '18', '17')
            and c_acctbal > (
                select
                    avg(c_acctbal)
                from
                    customer
                where
                    c_acctbal > 0.00
                    and substring(c_phone from 1 for 2) in
                        ('13', '31', '23', '29', '30', '18', '17')
            )
            and not exists (
                select
                    *
                from
                    orders
                where
                    o_custkey = c_custkey
            )
    ) as custsale
group by
    cntrycode
order by
    cntrycode",
];
