//! `sqlx::migrate!` embeds the migration files at compile time; tell cargo to
//! rebuild when they change (the macro cannot track them on stable Rust).

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
