import { useState } from 'react';
import type { GuiBundlePlan } from '@sigil/api';
import { useApp } from '../app-context.tsx';

/**
 * Export the model as a bundle; import one by upload or paste, with its plan shown before it
 * is applied. A read user may export and see what a bundle would change, not apply it.
 */
export function BundlePanel({ onClose }: { onClose: () => void }) {
  const { api, model, report, notify, canWrite } = useApp();
  const [yaml, setYaml] = useState('');
  const [plan, setPlan] = useState<GuiBundlePlan | null>(null);
  const [busy, setBusy] = useState(false);

  const download = () => api.text('GET /api/gui/models/:model/bundle', { params: { model } }).then((text) => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], { type: 'text/yaml' }));
    a.download = `${model}-bundle.yaml`;
    a.click();
    URL.revokeObjectURL(a.href);
  }, report);
  const upload = (f: File | undefined) => {
    if (!f) return;
    f.text().then((t) => { setYaml(t); setPlan(null); }, report);
  };
  const showPlan = () => {
    setBusy(true);
    api.request('POST /api/gui/models/:model/bundle/plan', { params: { model }, body: { yaml } }).then(setPlan, (e) => { setPlan(null); report(e); }).finally(() => setBusy(false));
  };
  const apply = () => {
    setBusy(true);
    api.request('POST /api/gui/models/:model/bundle/apply', { params: { model }, body: { yaml } }).then((r) => {
      notify(`Bundle applied: ${r.changes.length} change${r.changes.length === 1 ? '' : 's'}`);
      onClose();
    }, report).finally(() => setBusy(false));
  };

  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div className="modal" onClick={(e) => e.stopPropagation()} data-testid="bundle-panel">
        <button className="close" onClick={onClose} aria-label="close">×</button>
        <h2>Bundle</h2>
        <section>
          <h3>Export</h3>
          <p>The model as a bundle, with canvas positions as annotations (as <code>sigil export-bundle</code> writes it).</p>
          <button onClick={download} data-testid="bundle-export">Download bundle</button>
        </section>
        <section>
          <h3>Import</h3>
          <p>
            Upload a bundle file or paste one. A charm path names a charm the deploy search finds by its last part (<code>charm: ./sink</code>),
            or is a directory the controller can read.
          </p>
          <input type="file" accept=".yaml,.yml" onChange={(e) => upload(e.target.files?.[0])} data-testid="bundle-file" />
          <textarea value={yaml} onChange={(e) => { setYaml(e.target.value); setPlan(null); }} rows={12} placeholder="applications: …" data-testid="bundle-yaml" />
          <div>
            <button onClick={showPlan} disabled={busy || yaml.trim() === ''} data-testid="bundle-plan">Show plan</button>
          </div>
          {plan && (
            <div className="plan" data-testid="bundle-plan-result">
              {plan.changes.length === 0 ? <p>No changes: the model already matches the bundle.</p> : (
                <>
                  <p>Plan ({plan.changes.length} change{plan.changes.length === 1 ? '' : 's'}):</p>
                  <ol>{plan.changes.map((c, i) => <li key={i}>{c}</li>)}</ol>
                  {canWrite ? <button onClick={apply} disabled={busy} data-testid="bundle-apply">Apply</button> : <p className="muted">Applying a bundle needs write access to this model.</p>}
                </>
              )}
            </div>
          )}
        </section>
      </div>
    </div>
  );
}
