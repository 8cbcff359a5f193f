//! What the runtime reports for a progress display: `Runtime::on_compile` hears of
//! each compilation, before and after, and of nothing when the compiled code comes
//! from the cache; `Database::migrate_with` hears of each migration it applies.

use std::path::Path;
use std::sync::{Arc, Mutex};

use qhub_runtime::{
    Allocation, CompileStep, Database, Limits, MigrationStep, Origin, Runtime, RuntimeConfig,
};

fn runtime(cache: &Path) -> Runtime {
    Runtime::new(RuntimeConfig {
        cache_dir: Some(cache.to_path_buf()),
        limits: Limits::default(),
        allocation: Allocation::OnDemand,
    })
    .expect("a runtime")
}

/// Loads store-d1 into `runtime`, returning what its observer heard.
fn load_observed(runtime: &Runtime) -> (Origin, Vec<(String, bool)>) {
    let heard = Arc::new(Mutex::new(Vec::new()));
    let sink = heard.clone();
    runtime.on_compile(move |event| {
        let finished = matches!(event.step, CompileStep::Finished(_));
        sink.lock()
            .expect("not poisoned")
            .push((event.plugin.name.clone(), finished));
    });
    let dir = Path::new(qhub_bundled::BUILD_DIR);
    let manifest = std::fs::read_to_string(dir.join("store-d1.plugin.toml")).expect("manifest");
    let bytes = std::fs::read(dir.join("store-d1.wasm")).expect("component");
    let plugin = runtime.load(&manifest, &bytes).expect("loads");
    let heard = heard.lock().expect("not poisoned").clone();
    (plugin.origin, heard)
}

#[test]
fn compilations_are_reported_and_cache_hits_are_not() {
    let cache = tempfile::tempdir().expect("a temporary directory");
    let (origin, heard) = load_observed(&runtime(cache.path()));
    assert_eq!(origin, Origin::Compiled);
    assert_eq!(
        heard,
        [
            ("store-d1".to_owned(), false),
            ("store-d1".to_owned(), true)
        ]
    );

    let (origin, heard) = load_observed(&runtime(cache.path()));
    assert_eq!(origin, Origin::Cache);
    assert!(heard.is_empty(), "{heard:?}");
}

#[tokio::test]
async fn each_applied_migration_is_reported_in_order() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = Database::open_sqlite(&dir.path().join("q.db"))
        .await
        .expect("opens");
    let heard = Mutex::new(Vec::new());
    let applied = db
        .migrate_with(&|step: MigrationStep<'_>| {
            heard.lock().expect("not poisoned").push((
                step.version,
                step.index,
                step.total,
                step.description.to_owned(),
            ));
        })
        .await
        .expect("migrates");
    let heard = heard.into_inner().expect("not poisoned");
    assert!(!applied.is_empty());
    let versions: Vec<i64> = heard.iter().map(|h| h.0).collect();
    assert_eq!(
        versions, applied,
        "one report per applied migration, in order"
    );
    for (i, (_, index, total, description)) in heard.iter().enumerate() {
        assert_eq!((*index, *total), (i + 1, applied.len()));
        assert!(!description.is_empty());
    }
    assert_eq!(heard[0].3, "init", "{heard:?}");

    let again = db
        .migrate_with(&|step| panic!("nothing to apply, yet heard {step:?}"))
        .await
        .expect("migrates");
    assert!(again.is_empty());
}
