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
    #[cfg(unix)]
    quiet_broken_pipe();
    remove_partial_files_on_signal();
    let cli = actionfinder::cli::Cli::parse();
    match actionfinder::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Writing to a closed pipe (`actionfinder validate ... | head`) ends the process quietly, as
/// Unix tools do, instead of a panic in `println!` (the Rust runtime ignores SIGPIPE).
#[cfg(unix)]
fn quiet_broken_pipe() {
    // SAFETY: called once at the start of main, before any thread exists; SIG_DFL is a
    // valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// On SIGINT, SIGTERM or SIGHUP: removes the temporary files being written (destructors do
/// not run when a signal ends the process) and exits with the shell's 128 + SIGINT.
fn remove_partial_files_on_signal() {
    let handler = || {
        actionfinder_snapshots::partial::remove_registered();
        eprintln!("error: interrupted; temporary output files removed");
        std::process::exit(130);
    };
    if let Err(e) = ctrlc::set_handler(handler) {
        log::warn!("cannot install the signal handler that removes partial files: {e}");
    }
}
