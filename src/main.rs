//! The `actionfinder` command: a thin shell over the library.

use clap::Parser;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // candle's elementwise pool spin-waits; the default networks are small enough that one
    // thread is fastest on a 2-core machine (`docs/notes/candle-on-cpu.md`). Wide networks: set
    // CANDLE_NUM_THREADS=2.
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = actionfinder::cli::Cli::parse();
    match actionfinder::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
