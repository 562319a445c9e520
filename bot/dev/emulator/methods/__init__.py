"""The Bot API methods the emulator implements, registered by name in ``METHODS``.

Each implementation receives the emulator, the already validated and typed
parameters (see ``spec.py``) and the ``CallContext``; it returns the
``result`` of the answer or raises ``ApiError``. Methods present in the
specification but absent from ``METHODS`` are answered 501 by the dispatcher.

One module per family; importing it registers its methods:

- ``profile``    getMe, logOut, close; setMyCommands, getMyCommands,
  deleteMyCommands; setChatMenuButton, getChatMenuButton; set/getMyName,
  set/getMyDescription, set/getMyShortDescription
- ``updates``    getUpdates, setWebhook, deleteWebhook, getWebhookInfo
- ``messages``   sendMessage, editMessageText, editMessageCaption,
  editMessageReplyMarkup, deleteMessage, deleteMessages
- ``files``      sendDocument, sendPhoto, getFile
- ``callbacks``  answerCallbackQuery
- ``chats``      getChat, getChatMember, sendChatAction
- ``common``     steps shared by the sending and editing methods
- ``registry``   ``METHODS``, the ``Handler`` type and the ``method`` decorator
"""

from . import callbacks, chats, files, messages, profile, updates  # noqa: F401  (registers them)
from .registry import METHODS, Handler, method

__all__ = ["METHODS", "Handler", "method"]
