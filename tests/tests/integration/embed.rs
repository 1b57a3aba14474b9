//! `driver/core/examples/embed.rs`, the embedding example, runs as documented.

#[allow(dead_code, reason = "the example's `main` is not called here")]
#[path = "../../../driver/core/examples/embed.rs"]
mod example;

use crate::support::{TempProject, shop_spec};

#[test]
fn the_embedding_example_prints_each_tasks_physical_plan() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let text = example::physical_plans(&spec).expect("the example compiles the spec");
    let tasks = text.lines().filter(|line| line.starts_with("== ")).count();
    assert_eq!(tasks, 5, "one plan per task of the shop example:\n{text}");
    assert!(text.contains("DataSourceExec") || text.contains("DeltaScan"), "{text}");
    assert!(!text.contains("V0"), "no diagnostic:\n{text}");
}

/// A request is plain data: the same spec as text or as a file compiles the same; profile
/// overrides change the plans and going back restores them; the response carries plans and
/// schemas only when asked.
#[test]
fn a_compile_request_carries_the_spec_overrides_and_what_to_record() {
    use viewdag_driver::{CompileRequest, Compiler, Planning, ProfileOverrides, Recording, ViewStatus};

    let project = TempProject::with_shop_data();
    let path = project.write_spec("spec.yaml", &shop_spec());
    let mut compiler = Compiler::new().unwrap();
    let from_file = compiler.compile(&CompileRequest::new(&path)).unwrap();
    assert!(from_file.plans.is_empty() && from_file.schemas.is_empty(), "nothing recorded unless asked");

    let everything = Recording { plans: true, schemas: true, pass_text: false };
    let from_text = Compiler::new().unwrap().compile(&CompileRequest::text(&path, shop_spec()).recording(everything)).unwrap();
    assert_eq!(from_text.views, from_file.views, "the text compiles as the file");
    let compiled: Vec<&str> =
        from_text.views.iter().filter(|view| matches!(view.status, ViewStatus::Compiled { .. })).map(|view| view.name.as_str()).collect();
    assert_eq!(from_text.plans.keys().map(String::as_str).collect::<Vec<_>>(), {
        let mut sorted = compiled.clone();
        sorted.sort();
        sorted
    });
    for view in from_text.views.iter() {
        assert_eq!(from_text.schemas.contains_key(&view.name), view.status.is_valid(), "{}", view.name);
    }
    for (name, plans) in &from_text.plans {
        let Some(ViewStatus::Compiled { p0_digest, p1_digest, p2_digest, .. }) = from_text.view(name).map(|view| &view.status) else {
            panic!("{name} is compiled")
        };
        assert_eq!((&plans.p0_digest, &plans.optimized.digest, &plans.physical.digest), (p0_digest, p1_digest, p2_digest), "{name}");
    }

    let p2_digests = |response: &viewdag_driver::CompileResponse| -> Vec<String> {
        response
            .views
            .iter()
            .filter_map(|view| match &view.status {
                ViewStatus::Compiled { p2_digest, .. } => Some(p2_digest.clone()),
                _ => None,
            })
            .collect()
    };
    let one_partition = CompileRequest {
        overrides: ProfileOverrides { target_partitions: Some(1), ..ProfileOverrides::default() },
        ..CompileRequest::new(&path).with_planning(Planning::Tasks)
    };
    let overridden = compiler.compile(&one_partition).unwrap();
    assert!(!overridden.has_errors(), "{:?}", overridden.diagnostics);
    assert_ne!(p2_digests(&overridden), p2_digests(&from_file), "one target partition changes the physical plans");
    let back = compiler.compile(&CompileRequest::new(&path)).unwrap();
    assert_eq!(p2_digests(&back), p2_digests(&from_file), "without the override, the spec's profile again");
}
