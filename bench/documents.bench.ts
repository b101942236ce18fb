/**
 * Letter PDFs per second on one core (template rendering + PDF with embedded fonts + EPC QR code),
 * beside the way companies do it today: the same letter filled into a word-processor template and
 * converted by LibreOffice in headless mode, when LibreOffice is installed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeDocument } from '../src/documents/compose.ts';
import { renderTemplate } from '../src/documents/engine.ts';
import { sampleInput } from '../src/documents/samples.ts';
import { buildVariables } from '../src/documents/variables.ts';
import type { BenchContext } from './harness.ts';

const TARGET = 100;

export async function run(ctx: BenchContext): Promise<void> {
  const input = sampleInput('business', 'fr', 'firm');
  // Warm-up: font files read, templates parsed, JIT warm.
  for (let i = 0; i < 20; i++) await composeDocument({ key: 'firm', channel: 'letter', input });

  const n = ctx.quick ? 100 : 600;
  let bytes = 0;
  let withQr = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    // A different invoice each time, so the QR code and the text differ from letter to letter.
    const doc = await composeDocument({
      key: 'firm',
      channel: 'letter',
      input: { ...input, invoices: [{ ...input.invoices[0]!, number: `F-2025-${String(1000 + i)}`, openMinor: 1_200_000n - BigInt(i) }] },
    });
    bytes += doc.pdf!.length;
    if (doc.epcPayload) withQr++;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  if (withQr !== n) throw new Error(`only ${withQr} of ${n} letters had a QR code`);
  const perSecond = n / seconds;

  const baseline = libreOfficeBaseline(input, ctx.quick ? 3 : 10);
  ctx.report({
    figure: `letter PDFs with EPC QR code, one core (${n} letters, ${Math.round(bytes / n / 1024)} KiB each)`,
    value: Number(perSecond.toFixed(1)),
    unit: 'letters/s',
    baseline: baseline.perSecond,
    target: `>= ${TARGET} letters/s`,
    met: perSecond >= TARGET,
    note: baseline.note,
  });
  // On a shared machine wall time includes waiting for the core; CPU time is what one core spends.
  ctx.report({
    figure: 'letter PDFs per CPU-second (same run, process CPU time)',
    value: Number((n / cpuSeconds).toFixed(1)),
    unit: 'letters/s',
    baseline: null,
    target: `>= ${TARGET} letters/s`,
    met: n / cpuSeconds >= TARGET,
  });
  ctx.report({
    figure: 'time per letter',
    value: Number(((seconds * 1000) / n).toFixed(2)),
    unit: 'ms',
    baseline: baseline.perSecond ? Number((1000 / baseline.perSecond).toFixed(1)) : null,
    target: null,
    met: null,
  });
}

function findSoffice(): string | null {
  for (const bin of ['soffice', 'libreoffice']) {
    const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return null;
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The same letter text as a flat OpenDocument file, converted to PDF by LibreOffice, one process per letter (mail-merge scripts do this). */
function libreOfficeBaseline(input: ReturnType<typeof sampleInput>, n: number): { perSecond: number | null; note: string } {
  const soffice = findSoffice();
  if (!soffice) return { perSecond: null, note: 'LibreOffice baseline skipped: soffice/libreoffice not installed' };
  const vars = buildVariables(input);
  const parts = renderTemplate('firm', 'letter', 'fr', vars);
  const paragraphs = [
    vars.organisation.name,
    ...vars.customer.address_lines,
    `${vars.organisation.place ?? ''}, le ${vars.today}`,
    `Objet : ${parts.subject}`,
    ...(parts.body ?? '').split(/\n{2,}/),
    vars.organisation.signatory_name,
  ];
  const fodt = `<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.text">
<office:body><office:text>${paragraphs.map((p) => `<text:p>${xml(p)}</text:p>`).join('')}</office:text></office:body></office:document>`;
  const dir = mkdtempSync(join(tmpdir(), 'relance-lo-'));
  try {
    const profile = `file://${join(dir, 'profile')}`;
    const convert = (file: string) =>
      execFileSync(soffice, [`-env:UserInstallation=${profile}`, '--headless', '--convert-to', 'pdf', '--outdir', dir, file], { stdio: 'ignore', timeout: 120_000 });
    const warm = join(dir, 'warm.fodt');
    writeFileSync(warm, fodt);
    convert(warm); // first start creates the profile: not counted
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const f = join(dir, `letter-${i}.fodt`);
      writeFileSync(f, fodt);
      convert(f);
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return { perSecond: Number((n / seconds).toFixed(2)), note: `LibreOffice headless, ${n} letters, one process each, without QR code` };
  } catch (e) {
    return { perSecond: null, note: `LibreOffice baseline failed: ${(e as Error).message.split('\n')[0]}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
