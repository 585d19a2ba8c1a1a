{{/* The pack's name: the release name, which is also the NebariApp's, the Service's and the ServiceAccount's. */}}
{{- define "pack.name" -}}
{{- .Release.Name | trunc 53 | trimSuffix "-" -}}
{{- end -}}

{{- define "pack.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ include "pack.name" . }}
{{- end -}}

{{- define "pack.labels" -}}
{{ include "pack.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: {{ .Chart.Name }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* repository:tag, or repository:tag@digest when a digest is given. */}}
{{- define "pack.image" -}}
{{- $tag := required "image.tag is required: a pinned version, never latest" .Values.image.tag -}}
{{- if eq (toString $tag) "latest" }}{{ fail "image.tag must be a pinned version, not latest" }}{{ end -}}
{{- .Values.image.repository }}:{{ $tag }}{{ with .Values.image.digest }}@{{ . }}{{ end -}}
{{- end -}}
