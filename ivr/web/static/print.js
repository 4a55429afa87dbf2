// The certificate's "Print" button (no inline script: the console's CSP forbids it).
document.getElementById("print")?.addEventListener("click", () => window.print());
