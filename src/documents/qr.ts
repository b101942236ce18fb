/**
 * The EPC QR code as a module matrix: byte mode (the payload is UTF-8, charset 1), error correction
 * level M and version ≤ 13, as EPC069-12 requires. Drawn as vector squares by the PDF layer, so it
 * stays sharp at any print resolution.
 */
import QRCode from 'qrcode';
import { validation } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('documents-qr', {
  qr_too_large: { fr: 'le QR code de paiement demanderait la version {version} ; la norme EPC069-12 autorise au plus la version {max}', en: 'the payment QR code would need version {version}; EPC069-12 allows at most {max}' },
});

export interface QrMatrix {
  size: number;
  version: number;
  /** Row-major, 1 = dark module. */
  modules: Uint8Array;
}

export const EPC_MAX_QR_VERSION = 13;

export function epcQrMatrix(payload: string): QrMatrix {
  const qr = QRCode.create([{ data: new TextEncoder().encode(payload), mode: 'byte' }], { errorCorrectionLevel: 'M' });
  if (qr.version > EPC_MAX_QR_VERSION) {
    throw validation(E('qr_too_large', { version: qr.version, max: EPC_MAX_QR_VERSION }), { field: 'epc.payload' });
  }
  return { size: qr.modules.size, version: qr.version, modules: Uint8Array.from(qr.modules.data as ArrayLike<number>) };
}

/** A QR code of a link (the debtor portal's, on letters): byte mode, error correction level M. */
export function linkQrMatrix(url: string): QrMatrix {
  const qr = QRCode.create([{ data: new TextEncoder().encode(url), mode: 'byte' }], { errorCorrectionLevel: 'M' });
  return { size: qr.modules.size, version: qr.version, modules: Uint8Array.from(qr.modules.data as ArrayLike<number>) };
}
