//! The page's hydration script: what Leptos' `HydrationScripts` sends, less its
//! `<link rel="preload">` of the `.wasm` (docs/decisions/0008-hydration-without-preloading-the-wasm.md).

use leptos::nonce::use_nonce;
use leptos::prelude::*;

/// Preloads the bundle's JS module beside the stylesheet; once the module has run (after the
/// stylesheet, as every script does) and the browser is idle (after the first paint; at most
/// 2 s later, as Leptos' own `defer` waits), fetches the `.wasm` and hydrates the page.
/// `HydrationScripts` preloads the `.wasm` from the `<head>`: on a slow connection its 160 KiB
/// share the bandwidth with the stylesheet the first paint waits for.
#[component]
pub fn HydrationScript(options: LeptosOptions) -> impl IntoView {
    let bundle = format!("/{}/{}", options.site_pkg_dir, options.output_name);
    // wasm-bindgen's `--target web` module: `default` instantiates the WASM, `hydrate` is the
    // frontend crate's entry point, and each island is an export named by its element's
    // `data-component` (Leptos' own island script, less the children callbacks, which only pass
    // a parent island's context on: no island here needs it). Then `data-hydrated` says the page
    // is interactive.
    let script = format!(
        "import('{bundle}.js').then(m=>{{\
         const go=()=>m.default({{module_or_path:'{bundle}.wasm'}}).then(()=>{{m.hydrate();\
         for(const el of document.querySelectorAll('leptos-island'))m[el.dataset.component](el);\
         document.querySelector('div.app').dataset.hydrated='true'}});\
         'requestIdleCallback' in window?requestIdleCallback(go,{{timeout:2000}}):go()}})"
    );
    view! {
        <link rel="modulepreload" href=format!("{bundle}.js")/>
        <script type="module" nonce=use_nonce()>{script}</script>
    }
}
