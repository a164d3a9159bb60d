; License Manager's command line for Windows Server (Core included): licensectl.exe
; in "C:\Program Files\License Manager", on the system PATH, with an entry in
; "Apps & features". No GUI, no WebView2. Silent: licensectl-setup.exe /S, and
; "C:\Program Files\License Manager\uninstall-licensectl.exe" /S.
;
; Built by scripts/windows:
;   makensis -DVERSION=0.1.0 -DEXE=<licensectl.exe> -DOUT=<setup.exe> licensectl.nsi
; Uninstalling removes the program and its PATH entry; the environments' data (the
; license, backups, state) is the administrator's and stays.

!include "common.nsh"
!define KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\LicenseManagerCli"

Name "License Manager command line ${VERSION}"
OutFile "${OUT}"

Page directory
Page instfiles
UninstPage uninstConfirm
UninstPage instfiles

Section "licensectl"
  ; The desktop app's installers (setup.exe and .msi) carry licensectl too.
  ${If} ${FileExists} "$INSTDIR\License Manager.exe"
    MessageBox MB_ICONINFORMATION "License Manager with the desktop app is installed in $INSTDIR, and it includes licensectl: nothing to install." /SD IDOK
    Abort
  ${EndIf}
  SetOutPath "$INSTDIR"
  File "/oname=licensectl.exe" "${EXE}"
  WriteUninstaller "$INSTDIR\uninstall-licensectl.exe"
  !insertmacro InstallTasks
  !insertmacro ProtectFolders
  !insertmacro AddInstallDirToPath
  !insertmacro AppsAndFeatures "${KEY}" "License Manager command line" "uninstall-licensectl.exe"
SectionEnd

Section "Uninstall"
  !insertmacro RemoveInstallDirFromPath
  Delete "$INSTDIR\licensectl.exe"
  Delete "$INSTDIR\uninstall-licensectl.exe"
  !insertmacro RemoveTasks
  ; Only if empty: the desktop app's installer may share the folder.
  RMDir "$INSTDIR"
  DeleteRegKey HKLM "${KEY}"
SectionEnd
