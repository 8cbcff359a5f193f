//! The code wit-bindgen generates for the `store-backend` world: the `sql` import,
//! the shared `types`, and the `store` export with its `export!` macro.
//!
//! The export macro is public (`pub_export_macro`) so each backend crate expands it
//! for its own implementation; wit-bindgen then emits the world's full type
//! information in the backend, and only the imports here, as it does for any
//! bindings crate used by several components.

wit_bindgen::generate!({
    world: "store-backend",
    path: "../../wit",
    pub_export_macro: true,
    default_bindings_module: "qhub_store_common::bindings",
});
