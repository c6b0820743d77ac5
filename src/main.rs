use clap::Parser;
use tracing_subscriber::EnvFilter;

/// mimalloc rather than the system allocator: a request allocates and frees many small buffers,
/// and glibc's malloc and free took about a sixth of the server's CPU (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal: not in files and journals (and they cost time).
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match coffer::cli::run(coffer::cli::Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("coffer: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
